"""The `/finetune upload` modal: a training file (and an optional validation file) to attach, with the
model, epochs and method to check it for; and the parser of what comes back.

Slack's file input hands the submission the attached files' objects (`state.values[…].files`); the bot
downloads them itself with its token. `private_metadata` carries the channel the answer belongs to, in
the create form's shape, so the same reader finds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.preflight.checks import Method
from bot.preflight.epochs import MAX_EPOCHS
from bot.preflight.model_facts import DEFAULT_MODEL
from bot.views.outbound import safe_tree

UPLOAD_CALLBACK_ID = "preflight_upload"
FILE_ACTION = "file"
VALUE_ACTION = "value"
TRAINING_BLOCK = "training_file"
VALIDATION_BLOCK = "validation_file"


@dataclass(frozen=True)
class UploadRequest:
    training_file: dict[str, Any]
    validation_file: dict[str, Any] | None
    model: str
    epochs: int | None
    method: Method | None  # None: decided from the file


def upload_modal(*, channel_id: str) -> dict[str, Any]:
    def file_block(block_id: str, label: str, optional: bool) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "element": {
                "type": "file_input",
                "action_id": FILE_ACTION,
                "filetypes": ["jsonl"],
                "max_files": 1,
            },
        }

    def text_block(block_id: str, label: str, initial: str, hint: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": hint},
            "element": {"type": "plain_text_input", "action_id": VALUE_ACTION, "initial_value": initial},
        }

    method_options = [
        {"text": {"type": "plain_text", "text": text}, "value": value}
        for value, text in (("auto", "From the file"), ("supervised", "Supervised"), ("dpo", "DPO"))
    ]
    view = {
        "type": "modal",
        "callback_id": UPLOAD_CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Check a training file"},
        "submit": {"type": "plain_text", "text": "Check"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel_id": channel_id}),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "TuneOps checks the file, counts its tokens and estimates the cost before "
                    "anything is uploaded for training.",
                },
            },
            file_block(TRAINING_BLOCK, "Training file (.jsonl)", optional=False),
            file_block(VALIDATION_BLOCK, "Validation file (.jsonl)", optional=True),
            text_block("model", "Base model", DEFAULT_MODEL, "The model to fine-tune."),
            text_block("epochs", "Epochs", "auto", f"1–{MAX_EPOCHS}, or auto."),
            {
                "type": "input",
                "block_id": "method",
                "label": {"type": "plain_text", "text": "Method"},
                "element": {
                    "type": "static_select",
                    "action_id": VALUE_ACTION,
                    "options": method_options,
                    "initial_option": method_options[0],
                },
            },
        ],
    }
    modal: dict[str, Any] = safe_tree(view)
    return modal


def parse_upload_form(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> tuple[UploadRequest | None, dict[str, str]]:
    """`view.state.values` → the request, or `{block_id: message}` for the fields to fix."""
    errors: dict[str, str] = {}
    training = _files(values, TRAINING_BLOCK)
    validation = _files(values, VALIDATION_BLOCK)
    if not training:
        errors[TRAINING_BLOCK] = "Attach the JSONL training file."
    model = (_value(values, "model") or DEFAULT_MODEL).strip()
    epochs_text = (_value(values, "epochs") or "auto").strip().lower()
    epochs: int | None = None
    if epochs_text != "auto":
        if not epochs_text.isdigit() or not 1 <= int(epochs_text) <= MAX_EPOCHS:
            errors["epochs"] = f"A whole number from 1 to {MAX_EPOCHS}, or auto."
        else:
            epochs = int(epochs_text)
    method = _value(values, "method")
    if errors or not training:
        return None, errors
    return (
        UploadRequest(
            training_file=training[0],
            validation_file=validation[0] if validation else None,
            model=model,
            epochs=epochs,
            method="dpo" if method == "dpo" else "supervised" if method == "supervised" else None,
        ),
        {},
    )


def _files(values: Mapping[str, Mapping[str, Mapping[str, Any]]], block: str) -> list[dict[str, Any]]:
    entry = values.get(block, {}).get(FILE_ACTION) or {}
    files = entry.get("files")
    return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []


def _value(values: Mapping[str, Mapping[str, Mapping[str, Any]]], block: str) -> str | None:
    entry = values.get(block, {}).get(VALUE_ACTION) or {}
    if entry.get("type") == "static_select":
        option = entry.get("selected_option")
        chosen = option.get("value") if isinstance(option, dict) else None
        return chosen if isinstance(chosen, str) else None
    value = entry.get("value")
    return value if isinstance(value, str) else None
