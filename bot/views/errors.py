"""Private answers when something cannot be done: bad input, a refusal, an API error, a surprise."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.commands import CommandError
from bot.views.format import code, escape
from bot.views.help import usage_text
from bot.views.message import SlackMessage, fit


def error_message(text: str, *, detail: str | None = None) -> SlackMessage:
    """`text` is mrkdwn written by us; `detail` is someone else's words (an API message), escaped."""
    blocks: list[SectionBlock | ContextBlock] = [SectionBlock(text=MarkdownTextObject(text=f"⚠️ {text}"))]
    if detail:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"> {escape(detail)}")))
    fallback = f"⚠️ {text}" + (f" — {detail}" if detail else "")
    return fit(fallback, blocks)


def command_error_message(error: CommandError, *, command: str = "/finetune") -> SlackMessage:
    """The parser's complaint, followed by the usage text when it asked for it."""
    blocks: list[SectionBlock | ContextBlock] = [
        SectionBlock(text=MarkdownTextObject(text=f"⚠️ {error.message}"))
    ]
    if error.usage:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=usage_text(command))))
    return fit(f"⚠️ {error.message}", blocks)


def refusal_message(reason: str) -> SlackMessage:
    return fit(f"🔒 {reason}", [SectionBlock(text=MarkdownTextObject(text=f"🔒 {reason}"))])


def api_error_message(action: str, job_id: str | None, api_message: str) -> SlackMessage:
    """An error the fine-tuning API answered with, quoted in its own words."""
    target = f" {code(job_id)}" if job_id else ""
    return error_message(f"The fine-tuning API refused to {escape(action)}{target}:", detail=api_message)


def unexpected_error_message(reference: str) -> SlackMessage:
    text = (
        "Something went wrong on my side. Please try again; if it keeps happening, give this reference "
        f"to whoever runs TuneOps: {code(reference)}"
    )
    return fit(
        f"⚠️ {text}",
        [
            SectionBlock(text=MarkdownTextObject(text=f"⚠️ {text}")),
            ContextBlock(elements=[MarkdownTextObject(text=f"Reference {code(reference)}")]),
        ],
    )
