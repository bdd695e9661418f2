"""The Try button's form: a prompt for the fine-tuned model and its base model (handlers/after_training.py)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import InputBlock, MarkdownTextObject, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from bot.jobs.deploy_grammar import MAX_PROMPT

TRY_CALLBACK_ID = "try_model"
PROMPT_BLOCK = "prompt"
PROMPT_ACTION = "prompt_input"


def try_modal(job_id: str, channel: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=TRY_CALLBACK_ID,
        title="Try the model",
        submit="Ask both",
        close="Cancel",
        private_metadata=json.dumps({"channel_id": channel, "job_id": job_id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"The prompt goes to `{job_id}`'s fine-tuned model and to its base model; both answers "
                    "are posted side by side in the job's thread."
                )
            ),
            InputBlock(
                block_id=PROMPT_BLOCK,
                label="Prompt",
                element=PlainTextInputElement(action_id=PROMPT_ACTION, multiline=True, max_length=MAX_PROMPT),
            ),
        ],
    )
    result: dict[str, Any] = view.to_dict()
    return result
