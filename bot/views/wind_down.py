"""The plain-words answer when OpenAI refuses to train because self-serve fine-tuning is winding down."""

from __future__ import annotations

from bot.finetune.wind_down import (
    ALL_CLOSED,
    AZURE_OPEN_UNTIL,
    BASE_MODELS_SHUT_DOWN,
    INACTIVE_CLOSED,
    NEVER_TRAINED_CLOSED,
)
from bot.views.errors import error_message
from bot.views.message import SlackMessage


def _day(date: object) -> str:
    return f"{date:%-d %B %Y}"


def wind_down_message(api_said: str) -> SlackMessage:
    text = (
        "OpenAI didn't start the job: it is winding self-serve fine-tuning down, and this organisation "
        "can no longer create jobs."
    )
    then = (
        f"Since {_day(NEVER_TRAINED_CLOSED)} organisations that never fine-tuned cannot start jobs, since "
        f"{_day(INACTIVE_CLOSED)} neither can those that used no fine-tuned model in the last 60 days, and "
        f"after {_day(ALL_CLOSED)} nobody can. Models already fine-tuned keep answering until their base "
        f"model leaves the API (gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4.1-mini: {_day(BASE_MODELS_SHUT_DOWN)}).\n"
        "*What to do:* train on Azure AI Foundry instead, which keeps fine-tuning open (the gpt-4.1 family "
        f"until at least {_day(AZURE_OPEN_UNTIL)}): set `TUNEOPS_PROVIDER=azure` and "
        "`AZURE_OPENAI_ENDPOINT` (see the README's Azure section)."
    )
    return error_message(text, detail=api_said, then=then)
