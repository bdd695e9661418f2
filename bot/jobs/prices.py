"""What training costs: a dated table of prices per million trained tokens, overridable by a file.

The built-in table is OpenAI's published list for supervised fine-tuning (validation tokens are free).
`TUNEOPS_PRICES` names a JSON or TOML file mapping model names to USD per 1M training tokens; its entries
replace or extend the built-in ones. A model that is not in the table has no price: callers show the
tokens without a cost rather than guess.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PRICES_AS_OF = "2025-12"

# USD per 1M training tokens.
BUILT_IN_PRICES: Mapping[str, float] = {
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4.1-2025-04-14": 25.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
    "gpt-4.1-nano-2025-04-14": 1.50,
}

_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class PriceFileError(ValueError):
    """The price file cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class Cost:
    tokens: int
    usd_per_million: float

    @property
    def usd(self) -> float:
        return self.tokens * self.usd_per_million / 1_000_000


def base_model_name(model: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org:suffix:id` → `gpt-4o-mini-2024-07-18`; other names unchanged."""
    if model.startswith("ft:"):
        return model.split(":")[1] if model.count(":") >= 1 else model
    return model


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, float]

    def per_million(self, model: str) -> float | None:
        """The price for `model`: exact name first, then the same model without or with its date."""
        name = base_model_name(model.strip())
        if name in self.prices:
            return self.prices[name]
        undated = _DATE_SUFFIX.sub("", name)
        matches = [p for key, p in self.prices.items() if _DATE_SUFFIX.sub("", key) == undated]
        # An undated alias ("gpt-4o-mini") is priced only when every dated version costs the same.
        return matches[0] if matches and len(set(matches)) == 1 else None

    def cost(self, model: str, trained_tokens: int | None) -> Cost | None:
        price = self.per_million(model)
        if price is None or trained_tokens is None or trained_tokens < 0:
            return None
        return Cost(tokens=trained_tokens, usd_per_million=price)


def load_price_table(path: str | None) -> PriceTable:
    """The built-in table, overridden by the file at `path` when one is given."""
    if not path:
        return PriceTable(dict(BUILT_IN_PRICES))
    return PriceTable({**BUILT_IN_PRICES, **_read_price_file(Path(path))})


def _read_price_file(path: Path) -> dict[str, float]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceFileError(f"cannot read the price file {path}: {exc.strerror or exc}") from None
    try:
        raw: object = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PriceFileError(f"the price file {path} is not valid {path.suffix or 'TOML'}: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("prices"), dict):
        raw = raw["prices"]
    if not isinstance(raw, dict):
        raise PriceFileError(f"the price file {path} must map model names to USD per 1M training tokens")
    prices: dict[str, float] = {}
    for model, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PriceFileError(
                f"the price of {model!r} in {path} must be a number of USD per 1M training tokens"
            )
        prices[str(model)] = float(value)
    return prices


def format_usd(amount: float) -> str:
    """$0.42, $12.30, $1,234.50; a cost under a cent still shows as such."""
    if 0 < amount < 0.01:
        return "< $0.01"
    return f"${amount:,.2f}"
