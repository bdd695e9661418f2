"""`/finetune create key=value …`: the settings a job can be given, and how their text values are read.

The create form reads its fields with the same `spec_from_values`, so both report the same problems in the
same words, every problem at once (with `JobSpec.problems` for the rules of the spec itself).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar

from bot.finetune.spec import AUTO, Auto, JobSpec, ProviderName
from bot.jobs.words import is_int, shown, suggest
from bot.mrkdwn import bullet_list

T = TypeVar("T")

# The settings `create` knows, for the "did you mean" list and the form's block ids.
SPEC_KEYS = (
    "model",
    "training_file",
    "validation_file",
    "suffix",
    "seed",
    "epochs",
    "batch_size",
    "lr_multiplier",
    "method",
    "beta",
)
KEY_ALIASES = {
    "base_model": "model",
    "training_file_id": "training_file",
    "train_file": "training_file",
    "validation_file_id": "validation_file",
    "n_epochs": "epochs",
    "learning_rate_multiplier": "lr_multiplier",
    "lr": "lr_multiplier",
}
META_PREFIXES = ("meta.", "metadata.")


def create_spec(args: list[str], *, provider: ProviderName) -> tuple[JobSpec | None, list[tuple[str, str]]]:
    """`key=value` words → a `JobSpec`, or every problem with them as `(field, message)` pairs."""
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        name = key.strip().lower()
        if not sep:
            suggestion = canonical_key(name)
            example = f"{suggestion or 'suffix'}={_example_value(suggestion or 'suffix')}"
            problems.append((key, f"needs a value: write it as `key=value`, e.g. `{example}`"))
            continue
        meta_key = _meta_key(key)
        if meta_key is not None:
            if not meta_key:
                problems.append((key, "needs a name after the dot, e.g. `meta.team=search`"))
            elif meta_key in metadata:
                problems.append((f"meta.{meta_key}", "is given twice"))
            else:
                metadata[meta_key] = value
            continue
        canonical = canonical_key(name)
        if canonical is None:
            hint = suggest(name, list(SPEC_KEYS) + list(KEY_ALIASES))
            fix = f" — did you mean `{KEY_ALIASES.get(hint, hint)}`?" if hint else ""
            problems.append((key, f"is not a setting I know{fix}"))
            continue
        if canonical in values:
            problems.append((canonical, "is given twice"))
            continue
        values[canonical] = value
    spec, spec_problems = spec_from_values(values, metadata, provider=provider)
    problems.extend(spec_problems)
    return (None if problems else spec), problems


def _meta_key(key: str) -> str | None:
    lowered = key.lower()
    for prefix in META_PREFIXES:
        if lowered.startswith(prefix):
            return key[len(prefix) :]
    return None


def canonical_key(name: str) -> str | None:
    name = name.lower().replace("-", "_")
    if name in SPEC_KEYS:
        return name
    return KEY_ALIASES.get(name)


# A value to show in "e.g. key=value" hints, per setting, written as a person would type them.
EXAMPLES = (
    "model=gpt-4o-mini-2024-07-18 training_file=file-abc123 validation_file=file-def456 suffix=my-run "
    "seed=42 epochs=3 batch_size=auto lr_multiplier=0.5 method=dpo beta=0.1"
)
EXAMPLE_VALUES = dict(pair.split("=", 1) for pair in EXAMPLES.split())


def _example_value(key: str) -> str:
    return EXAMPLE_VALUES.get(key, "value")


def create_problems_text(problems: list[tuple[str, str]], *, command: str) -> str:
    count = len(problems)
    lines = [f"I can't start that job yet — {count} thing{'s' if count != 1 else ''} to fix:"]
    lines.extend(bullet_list([f"{shown(field)} {message}" for field, message in problems]))
    if any(message.startswith("is not a setting I know") for _, message in problems):
        known = ", ".join(f"`{key}`" for key in SPEC_KEYS)
        lines.append(f"The settings I know: {known} and `meta.<key>`.")
    lines.append(
        f"Usage: `{command} create model=<base> training_file=<file-id> [validation_file=<file-id>] "
        "[suffix=<text>] [seed=<n>] [epochs=<n|auto>] [batch_size=<n|auto>] [lr_multiplier=<x|auto>] "
        "[method=supervised|dpo] [beta=<x|auto>] [meta.<key>=<value> …]`"
    )
    return "\n".join(lines)


def spec_from_values(
    values: Mapping[str, str], metadata: Mapping[str, str] | None = None, *, provider: ProviderName = "openai"
) -> tuple[JobSpec | None, list[tuple[str, str]]]:
    """Build a `JobSpec` from raw text values keyed by `SPEC_KEYS`, reporting every problem at once as
    `(field, message)` pairs like `JobSpec.problems` ("seed", "must be a whole number…")."""
    problems: list[tuple[str, str]] = []
    failed: set[str] = set()

    def parsed(key: str, parse: Callable[[str], T]) -> T | None:
        raw = values.get(key)
        if raw is None:
            return None
        raw = raw.strip()
        if not raw:
            problems.append((key, f"is empty: give a value after `=`, e.g. `{key}={_example_value(key)}`"))
            failed.add(key)
            return None
        try:
            return parse(raw)
        except ValueError as error:
            problems.append((key, str(error)))
            failed.add(key)
            return None

    model = parsed("model", _text) or ""
    training_file = parsed("training_file", _text) or ""
    spec = JobSpec(
        model=model,
        training_file=training_file,
        validation_file=parsed("validation_file", _text),
        suffix=parsed("suffix", _text),
        seed=parsed("seed", _seed),
        epochs=parsed("epochs", _count("1 to 50")),
        batch_size=parsed("batch_size", _count("1 to 256")),
        lr_multiplier=parsed("lr_multiplier", _positive("lr_multiplier=0.5")),
        method=parsed("method", _method) or "supervised",
        beta=parsed("beta", _positive("beta=0.1")),
        metadata=dict(metadata or {}),
    )
    for field, message in spec.problems(provider):
        if field in failed or (field == "beta" and "method" in failed):
            continue  # already reported as unreadable; a second message would only confuse
        if field in ("model", "training_file") and field in values:
            continue
        problems.append((field, message))
    return (None if problems else spec), problems


def _text(raw: str) -> str:
    return raw


def _seed(raw: str) -> int:
    if not is_int(raw):
        raise ValueError("must be a whole number, e.g. `seed=42`")
    return int(raw)


def _count(allowed: str) -> Callable[[str], int | Auto]:
    def parse(raw: str) -> int | Auto:
        if raw.lower() == AUTO:
            return AUTO
        if not is_int(raw):
            raise ValueError(f"must be a whole number from {allowed}, or auto")
        return int(raw)

    return parse


def _positive(example: str) -> Callable[[str], float | Auto]:
    def parse(raw: str) -> float | Auto:
        if raw.lower() == AUTO:
            return AUTO
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"must be a positive number or auto, e.g. `{example}`") from None
        if not math.isfinite(number):
            raise ValueError(f"must be a positive number or auto, e.g. `{example}`")
        return number

    return parse


def _method(raw: str) -> Literal["supervised", "dpo"]:
    lowered = raw.lower()
    if lowered == "supervised":
        return "supervised"
    if lowered == "dpo":
        return "dpo"
    hint = suggest(lowered, ("supervised", "dpo"))
    raise ValueError("must be supervised or dpo" + (f" — did you mean `{hint}`?" if hint else ""))
