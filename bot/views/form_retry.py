"""A create form the API refused comes back: a private note with the API's words by the field they concern,
and a "Fix and retry" button that reopens the form with everything as it was typed.

The button carries what it needs in its value (Slack keeps it with the message, at most 2000 characters):
the job's channel, the typed values and the API's words by field. Nothing is stored for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.mrkdwn import code, escape
from bot.views.actions import ACTION_FIX_AND_RETRY
from bot.views.create_form import GENERAL_NOTE, field_label
from bot.views.format import truncate
from bot.views.message import SlackMessage, fit

MAX_BUTTON_VALUE = 2000
FIX_AND_RETRY = "Fix and retry"
# The API names a create's problem by its request field; the form by its own (`lr_multiplier`).
_FORM_FIELD_OF_HYPERPARAMETER = {
    "n_epochs": "epochs",
    "batch_size": "batch_size",
    "learning_rate_multiplier": "lr_multiplier",
    "beta": "beta",
}
_TEXT_FIELDS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "seed",
        "epochs",
        "batch_size",
        "lr_multiplier",
        "beta",
    }
)
_CHANNEL_ID = re.compile(r"^[A-Z][A-Z0-9_]{1,40}$")


def form_field_of(param: str | None) -> str:
    """The form field an API `param` concerns (`method.supervised.hyperparameters.n_epochs` → `epochs`),
    or `GENERAL_NOTE` when no field shows it (metadata, the method, no param at all)."""
    if not param:
        return GENERAL_NOTE
    last = param.rsplit(".", 1)[-1]
    name = _FORM_FIELD_OF_HYPERPARAMETER.get(last, param)
    return name if name in _TEXT_FIELDS else GENERAL_NOTE


@dataclass(frozen=True)
class FormRetry:
    """What reopens a refused form: the job's channel, the values as typed, the API's words by field."""

    channel: str
    values: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        """The button's value, within Slack's 2000 characters: long words are shortened first, then the
        longest typed values are left out (the person types those again) rather than break the button."""
        notes = {key: truncate(text, 300) for key, text in self.notes.items()}
        values = dict(self.values)
        while True:
            text = json.dumps({"c": self.channel, "v": values, "n": notes}, ensure_ascii=False)
            if len(text) <= MAX_BUTTON_VALUE or not (values or notes):
                return text[:MAX_BUTTON_VALUE]
            if values:
                values.pop(max(values, key=lambda key: len(values[key])))
            else:
                notes.pop(max(notes, key=lambda key: len(notes[key])))

    @classmethod
    def decode(cls, value: object) -> FormRetry | None:
        """The retry a button's value describes, or None for a value this module did not make."""
        if not isinstance(value, str):
            return None
        try:
            data = json.loads(value)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        channel, values, notes = data.get("c"), data.get("v"), data.get("n")
        if not isinstance(channel, str) or not _CHANNEL_ID.match(channel):
            return None
        if not _text_map(values) or not _text_map(notes):
            return None
        assert isinstance(values, dict) and isinstance(notes, dict)
        return cls(channel=channel, values=dict(values), notes=dict(notes))


def _text_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def refused_form_note(retry: FormRetry, *, api_said: str) -> SlackMessage:
    """The private note for a refused create form: the API's words by field, and the button to fix them."""
    lines = ["⚠️ The fine-tuning API refused to start the job, so nothing was started. What it said:"]
    for key, words in retry.notes.items():
        if key == GENERAL_NOTE:
            lines.append(f"> {escape(words)}")
            continue
        typed = retry.values.get(key)
        shown = f" {code(truncate(typed, 100))}" if typed else ""
        lines.append(f"*{escape(field_label(key))}*{shown}\n> {escape(words)}")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 2900))),
        ActionsBlock(
            block_id="create_retry",
            elements=[
                ButtonElement(
                    text=FIX_AND_RETRY,
                    action_id=ACTION_FIX_AND_RETRY,
                    value=retry.encode(),
                    style="primary",
                )
            ],
        ),
        ContextBlock(elements=[MarkdownTextObject(text="The form reopens with everything as you typed it.")]),
    ]
    return fit(f"⚠️ The fine-tuning API refused to start the job: {escape(api_said)}", blocks)


def retry_expired_note() -> SlackMessage:
    text = "⚠️ I can't reopen that form: this button doesn't carry a form I made. Open a new one with the command."
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def notes_for(param: str | None, api_said: str) -> dict[str, str]:
    return {form_field_of(param): api_said}


def merge_notes(*many: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for notes in many:
        for key, text in notes.items():
            merged[key] = f"{merged[key]} {text}" if key in merged else text
    return merged
