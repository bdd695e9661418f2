"""Training cost from the dated price table, and a user's price file over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs.prices import PriceFileError, format_usd, load_price_table


def test_a_priced_model_costs_its_trained_tokens_times_the_price() -> None:
    table = load_price_table(None)
    cost = table.cost("gpt-4o-mini-2024-07-18", 2_500_000)
    assert cost is not None
    assert cost.usd == pytest.approx(7.50)
    assert format_usd(cost.usd) == "$7.50"


def test_fine_tuned_and_undated_names_find_their_base_price() -> None:
    table = load_price_table(None)
    assert table.per_million("ft:gpt-4.1-mini-2025-04-14:acme::abc123") == 5.00
    assert table.per_million("gpt-4.1-nano") == 1.50
    assert table.per_million("gpt-4.1") == 25.00


def test_an_unknown_model_has_no_price_rather_than_a_guess() -> None:
    table = load_price_table(None)
    assert table.per_million("babbage-002") is None
    assert table.cost("babbage-002", 1000) is None
    assert table.cost("gpt-4o-mini-2024-07-18", None) is None


def test_a_price_file_overrides_and_extends_the_table(tmp_path: Path) -> None:
    toml = tmp_path / "prices.toml"
    toml.write_text('"gpt-4o-mini-2024-07-18" = 2.5\n"my-model" = 10\n')
    table = load_price_table(str(toml))
    assert table.per_million("gpt-4o-mini-2024-07-18") == 2.5
    assert table.per_million("my-model") == 10.0
    assert table.per_million("gpt-4o-2024-08-06") == 25.00
    js = tmp_path / "prices.json"
    js.write_text('{"prices": {"gpt-4.1-2025-04-14": 20}}')
    assert load_price_table(str(js)).per_million("gpt-4.1-2025-04-14") == 20.0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('"m" = "cheap"\n', "must be a number"),
        ("not toml [", "not valid"),
        ('"m" = -1\n', "must be a number"),
    ],
)
def test_a_bad_price_file_says_what_is_wrong(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(body)
    with pytest.raises(PriceFileError, match=words):
        load_price_table(str(path))
    with pytest.raises(PriceFileError, match="cannot read"):
        load_price_table(str(tmp_path / "missing.toml"))


def test_tiny_and_large_amounts_read_well() -> None:
    assert format_usd(0.001) == "< $0.01"
    assert format_usd(1234.5) == "$1,234.50"
