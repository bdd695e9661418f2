"""Private answers when something cannot be done: bad input, a refusal, an API error, a surprise."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.jobs.grammar import CommandError
from bot.mrkdwn import bullet_list, code, escape
from bot.views.help import usage_text
from bot.views.message import SlackMessage, fit


def error_message(text: str, *, detail: str | None = None, then: str | None = None) -> SlackMessage:
    """`text` is mrkdwn written by us; `detail` is someone else's words (an API message), escaped and
    quoted; `then` (ours again) follows the quote: what to do next."""
    blocks: list[SectionBlock | ContextBlock] = [SectionBlock(text=MarkdownTextObject(text=f"⚠️ {text}"))]
    if detail:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"> {escape(detail)}")))
    if then:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=then)))
    fallback = f"⚠️ {text}"
    if detail:
        # "refused to pause `x`: Job …" after a colon; "… again. — Job …" after a sentence.
        fallback += (" " if text.endswith(":") else " — ") + escape(detail)
    if then:
        fallback += " " + then
    return fit(fallback, blocks)


def command_error_message(error: CommandError, *, command: str = "/finetune") -> SlackMessage:
    """The parser's complaint, followed by the usage text when it asked for it."""
    blocks: list[SectionBlock | ContextBlock] = [
        SectionBlock(text=MarkdownTextObject(text=f"⚠️ {error.message}"))
    ]
    if error.usage:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=usage_text(command))))
    return fit(f"⚠️ {error.message}", blocks)


def invalid_spec_message(problems: list[tuple[str, str]]) -> SlackMessage:
    """Every problem of a job request (up to ten shown), as found before anything was sent."""
    count = len(problems)
    lines = [f"I can't start that job — {count} thing{'s' if count != 1 else ''} to fix:"]
    lines.extend(bullet_list([f"{code(field)} {message}" for field, message in problems]))
    return error_message("\n".join(lines))


def refusal_message(reason: str) -> SlackMessage:
    return fit(f"🔒 {reason}", [SectionBlock(text=MarkdownTextObject(text=f"🔒 {reason}"))])


def api_error_message(
    action: str, job_id: str | None, api_message: str, *, refused: bool = True, then: str | None = None
) -> SlackMessage:
    """An error the fine-tuning API answered with, quoted in its own words. `refused`: it said no (a 4xx);
    otherwise it failed (a 5xx, or a 429: too many requests)."""
    target = f" {code(job_id)}" if job_id else ""
    verb = "refused" if refused else "failed"
    return error_message(
        f"The fine-tuning API {verb} to {escape(action)}{target}:", detail=api_message, then=then
    )


def maybe_started_message(detail: str, *, command: str) -> SlackMessage:
    """A create that failed after the request may have reached the API: the job may exist, and billed.
    The client never repeats such a create for the same reason (`bot/finetune/retry.py`)."""
    return error_message(
        "The fine-tuning API failed while starting the job; it may have started anyway — check "
        f"`{command} list all mine` before trying again.",
        detail=detail,
    )


def maybe_done_message(action: str, job_id: str, detail: str, *, command: str) -> SlackMessage:
    """A pause/resume/cancel whose answer never came: the API may have done it."""
    return error_message(
        f"The fine-tuning API didn't answer when I asked it to {escape(action)} {code(job_id)}; it may have "
        "done it anyway.",
        detail=detail,
        then=check_state_hint(job_id, command=command),
    )


def check_state_hint(job_id: str, *, command: str) -> str:
    return f"`{command} status {job_id}` shows where it stands."


def api_unreachable_message(detail: str) -> SlackMessage:
    """The request never reached the API (or was a read): nothing changed."""
    return error_message(
        "I couldn't reach the fine-tuning API, so nothing was done. Try again in a minute.", detail=detail
    )


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
