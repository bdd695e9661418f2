"""The create form: a modal with one input per job setting, and the parser of what comes back.

Invalid input is answered with `ack(response_action="errors", errors=…)`, keyed by block id, so every field
shows its own problem. The values go through the same parsing as `/finetune create` (`spec_from_values`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.finetune.spec import JobSpec, ProviderName
from bot.jobs.create_args import SPEC_KEYS, spec_from_values
from bot.mrkdwn import escape
from bot.views.actions import CREATE_CALLBACK_ID

MAX_ERROR_TEXT = 2000  # Slack shows field errors under the input; keep them readable
# One block per setting; the block id is the setting's name and the action id is always "value".
VALUE_ACTION = "value"
METHODS = ("supervised", "dpo")
# The key of a refused create's words that no field of the form can show (shown over the fields).
GENERAL_NOTE = "_general"

# key → (label, placeholder, hint, required)
_FIELDS: dict[str, tuple[str, str, str | None, bool]] = {
    "model": ("Base model", "gpt-4o-mini-2024-07-18", "The model to fine-tune.", True),
    "training_file": ("Training file id", "file-abc123", "The id of an uploaded JSONL file.", True),
    "validation_file": ("Validation file id", "file-def456", None, False),
    "suffix": ("Suffix", "support-bot", "Added to the fine-tuned model's name.", False),
    "epochs": ("Epochs", "auto", "1–50, or auto.", False),
    "batch_size": ("Batch size", "auto", "1–256, or auto.", False),
    "lr_multiplier": ("Learning-rate multiplier", "auto", "A positive number, or auto.", False),
    "seed": ("Seed", "42", "A whole number, for reproducible runs.", False),
    "beta": ("Beta (DPO only)", "auto", "Greater than 0 and at most 2, or auto.", False),
}


def create_modal(
    *,
    channel_id: str,
    command: str,
    initial: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The modal for `views.open`; `private_metadata` carries the channel the job will belong to.
    `initial` prefills fields as typed; `notes` (a refused create's words, by field) replace their hints."""
    initial = initial or {}
    notes = notes or {}
    blocks: list[SectionBlock | InputBlock] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"The job will belong to <#{channel_id}>, and its card will be posted there. "
                f"Same as `{command} create key=value …`."
            )
        )
    ]
    if notes:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=retry_intro(notes))))
    for key in ("model", "training_file", "validation_file", "suffix"):
        blocks.append(_text_input(key, initial.get(key), notes.get(key)))
    blocks.append(_method_input(initial.get("method")))
    for key in ("epochs", "batch_size", "lr_multiplier", "seed", "beta"):
        blocks.append(_text_input(key, initial.get(key), notes.get(key)))
    view = View(
        type="modal",
        callback_id=CREATE_CALLBACK_ID,
        title=PlainTextObject(text="New fine-tuning job"),
        submit=PlainTextObject(text="Start job"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=blocks,
    )
    result: dict[str, Any] = view.to_dict()
    return result


def channel_of(private_metadata: str) -> str | None:
    """The channel id `create_modal` stored, or None if the metadata is not ours."""
    try:
        data = json.loads(private_metadata)
    except (ValueError, TypeError):
        return None
    channel = data.get("channel_id") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and channel else None


def typed_values(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, str]:
    """`view.state.values` → what was typed in each field, by setting name (empty fields left out)."""
    raw: dict[str, str] = {}
    for key in SPEC_KEYS:
        value = _submitted(values.get(key, {}).get(VALUE_ACTION))
        if value is not None and value.strip():
            raw[key] = value
    return raw


def retry_intro(notes: Mapping[str, str]) -> str:
    """The line over a form reopened after a refused create; a problem no field shows is quoted here."""
    text = "⚠️ The fine-tuning API refused this job. Everything you typed is below; fix the field it points at and start again."
    general = notes.get(GENERAL_NOTE)
    if general:
        text += f"\n> {escape(general)}"
    return text


def parse_create_form(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]], *, provider: str
) -> tuple[JobSpec | None, dict[str, str]]:
    """`view.state.values` → the spec, or `{block_id: message}` with every problem at once."""
    raw = typed_values(values)
    name: ProviderName = "azure" if provider == "azure" else "openai"
    spec, problems = spec_from_values(raw, provider=name)
    errors: dict[str, str] = {}
    for field, message in problems:
        block = field if field in _FIELDS or field == "method" else "model"
        sentence = _plain(field, message)
        errors[block] = f"{errors[block]} {sentence}" if block in errors else sentence
    return (spec if not errors else None), {k: v[:MAX_ERROR_TEXT] for k, v in errors.items()}


def unreachable_channel_errors(problem: str) -> dict[str, str]:
    """The form's answer when the job's channel is known to refuse the bot's posts (Slack's `problem`):
    shown under the first field, plain text, the modal stays open."""
    text = (
        f"I can't post in the job's channel (Slack said {problem} when I last tried), so nobody there would "
        "see its card. Invite me there with /invite @TuneOps, then submit again. If you submit again "
        "without inviting me, I'll start the job and send you its card in a direct message."
    )
    return {"model": text[:MAX_ERROR_TEXT]}


def _plain(field: str, message: str) -> str:
    """The parser's words for a form field: no mrkdwn (errors are plain text), no `key=` in examples."""
    message = re.sub(rf"e\.g\. `?{re.escape(field)}=", "e.g. ", message).replace("`", "")
    if message.startswith("is required"):
        return "Required" + message.removeprefix("is required")
    return message[0].upper() + message[1:]


def _submitted(state: Mapping[str, Any] | None) -> str | None:
    if not state:
        return None
    if state.get("type") == "static_select":
        option = state.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None
    value = state.get("value")
    return value if isinstance(value, str) else None


def field_label(key: str) -> str:
    """The form's label of a setting ("Base model" for `model`), or the key itself."""
    if key == "method":
        return "Method"
    return _FIELDS[key][0] if key in _FIELDS else key


def _text_input(key: str, initial: str | None, note: str | None = None) -> InputBlock:
    label, placeholder, hint, required = _FIELDS[key]
    if note:
        hint = f"⚠️ {note}"[:MAX_ERROR_TEXT]
    return InputBlock(
        block_id=key,
        label=PlainTextObject(text=label),
        hint=PlainTextObject(text=hint) if hint else None,
        optional=not required,
        element=PlainTextInputElement(
            action_id=VALUE_ACTION,
            placeholder=PlainTextObject(text=placeholder),
            initial_value=initial[:3000] if initial else None,
        ),
    )


def _method_input(initial: str | None) -> InputBlock:
    options = [
        Option(value="supervised", text=PlainTextObject(text="Supervised")),
        Option(value="dpo", text=PlainTextObject(text="DPO (preference pairs)")),
    ]
    chosen = options[1] if (initial or "").lower() == "dpo" else options[0]
    return InputBlock(
        block_id="method",
        label=PlainTextObject(text="Method"),
        element=StaticSelectElement(action_id=VALUE_ACTION, options=options, initial_option=chosen),
    )
