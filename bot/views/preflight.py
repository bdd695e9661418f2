"""The pre-flight report in Slack: verdict, counts and cost, the problems, and `Upload & start` when the
file can be trained (its value carries what the create form is prefilled with)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.mrkdwn import code, escape
from bot.preflight.report import Report, count_lines, finding_line, verdict
from bot.views.message import SlackMessage, fit

ACTION_UPLOAD_START = "preflight_upload_start"
UPLOAD_START_LABEL = "Upload & start"


@dataclass(frozen=True)
class UploadPlan:
    """What `Upload & start` uploads and prefills: Slack file ids and the settings the file was checked for."""

    training_file: str
    model: str
    method: str
    epochs: int | None = None
    validation_file: str | None = None

    def as_value(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> UploadPlan | None:
        try:
            raw: Any = json.loads(value)
            plan = cls(**raw) if isinstance(raw, dict) else None
        except (ValueError, TypeError):
            return None
        if plan is None or not isinstance(plan.training_file, str) or not isinstance(plan.model, str):
            return None
        return plan


def preflight_message(report: Report, *, plan: UploadPlan | None = None) -> SlackMessage:
    icon = ":white_check_mark:" if report.trainable else ":x:"
    headline = f"{icon} *Pre-flight of {code(report.source)}: {escape(verdict(report))}*"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=headline)),
        SectionBlock(text=MarkdownTextObject(text="\n".join(escape(line) for line in count_lines(report)))),
    ]
    for label, group in (("Errors", report.errors), ("Warnings", report.warnings)):
        if group:
            lines = "\n".join(f"• {escape(finding_line(f))}" for f in group)
            blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{label}*\n{lines}")))
    if plan is not None and report.trainable:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=UPLOAD_START_LABEL,
                        action_id=ACTION_UPLOAD_START,
                        value=plan.as_value(),
                        style="primary",
                    )
                ]
            )
        )
    elif not report.trainable:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="Fix the errors and share the file again.")])
        )
    return fit(f"Pre-flight of {report.source}: {verdict(report)}", blocks)


def file_unavailable_message(name: str, reason: str) -> SlackMessage:
    text = f":warning: TuneOps could not check {code(name)}: {escape(reason)}."
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def uploading_modal() -> dict[str, Any]:
    """Shown at once after `Upload & start` (a trigger id lasts 3 s), replaced by the create form."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Upload & start"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": ":hourglass_flowing_sand: Uploading the training file…"},
            }
        ],
    }


def upload_failed_modal(reason: str) -> dict[str, Any]:
    modal = uploading_modal()
    text = f":warning: The upload failed: {escape(reason)}"
    modal["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]
    return modal
