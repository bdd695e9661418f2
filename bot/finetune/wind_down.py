"""OpenAI is winding self-serve fine-tuning down: the dates, and how its refusal is recognised.

Organisations that never fine-tuned lost job creation on 2026-05-07; those with no fine-tuned-model use
in the previous 60 days on 2026-07-02 (the API answers 403 `training_not_available`); nobody can create
jobs after 2027-01-06. gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4.1-mini, and the models fine-tuned on them,
leave the API on 2027-01-14. Azure AI Foundry keeps fine-tuning open (the gpt-4.1 family until at least
2027-04).
"""

from __future__ import annotations

import datetime as dt

from bot.finetune.errors import APIStatusError

NEVER_TRAINED_CLOSED = dt.date(2026, 5, 7)
INACTIVE_CLOSED = dt.date(2026, 7, 2)
ALL_CLOSED = dt.date(2027, 1, 6)
BASE_MODELS_SHUT_DOWN = dt.date(2027, 1, 14)
AZURE_OPEN_UNTIL = dt.date(2027, 4, 14)

TRAINING_NOT_AVAILABLE = "training_not_available"
_WIND_DOWN_WORDS = ("winding down", "wind down", "winds down", "no longer available", "no longer accepting")


def is_wind_down_refusal(error: APIStatusError) -> bool:
    """The API refuses to train because fine-tuning is closing for this organisation (not a bad key)."""
    if error.code == TRAINING_NOT_AVAILABLE:
        return True
    message = error.message.lower()
    return error.status_code == 403 and "fine-tun" in message and any(w in message for w in _WIND_DOWN_WORDS)
