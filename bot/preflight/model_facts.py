"""What a base model means for its training data: its tokenizer and how long one example may be."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.jobs.prices import base_model_name
from bot.preflight.tokens import O200K_BASE

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
# Tokens per training example for the gpt-4o and gpt-4.1 families; longer examples are truncated.
O200K_EXAMPLE_LIMIT = 65_536

_O200K_FAMILIES = re.compile(r"^(gpt-4o|gpt-4\.1|o\d)(-|$)")


@dataclass(frozen=True)
class ModelFacts:
    model: str
    encoding: str
    example_limit: int
    # False when the model is not one we know: counts use o200k_base and say so.
    known: bool


def facts_for(model: str) -> ModelFacts:
    name = base_model_name(model.strip())
    known = bool(_O200K_FAMILIES.match(name))
    return ModelFacts(
        model=model.strip(), encoding=O200K_BASE, example_limit=O200K_EXAMPLE_LIMIT, known=known
    )
