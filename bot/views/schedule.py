"""The words of a channel's schedule: the answer to `digest` / `quiet`, the daily digest, and the summary
posted when quiet hours end. Posts are drawn from the payload queued with them, so a post sent again after
a restart says exactly what it said the first time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.jobs.actions import Action
from bot.jobs.prices import format_usd
from bot.mrkdwn import code, escape
from bot.schedule.service import ScheduleOutcome
from bot.views.format import duration, progress_bar, slack_date, status_emoji, status_words
from bot.views.message import SlackMessage, fit

MAX_DIGEST_ROWS = 40


def schedule_answer(outcome: ScheduleOutcome, *, command: str) -> SlackMessage:
    lines: list[str] = []
    if outcome.changed is Action.DIGEST:
        lines.append(
            f"This channel gets a daily digest at {outcome.digest.describe()}."
            if outcome.digest
            else "This channel's daily digest is off."
        )
    elif outcome.changed is Action.QUIET:
        lines.append(
            f"Quiet hours here are {outcome.quiet.describe()}: routine changes are held and summed up when "
            "they end; failures still go out at once."
            if outcome.quiet
            else "Quiet hours are off here: every change is posted as it happens."
        )
    else:
        lines.append(
            f"Daily digest: {outcome.digest.describe()}."
            if outcome.digest
            else f"Daily digest: off (`{command} digest 09:00 Europe/Paris` turns it on)."
        )
        lines.append(
            f"Quiet hours: {outcome.quiet.describe()}."
            if outcome.quiet
            else f"Quiet hours: off (`{command} quiet 22:00-07:00 Europe/Paris` sets them)."
        )
    if outcome.digest and outcome.next_digest_at is not None and outcome.changed is not Action.QUIET:
        lines.append(f"The next one comes {slack_date(outcome.next_digest_at)}.")
    text = "\n".join(lines)
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


# ---- the digest -----------------------------------------------------------------------------------------


def digest_message(payload: Mapping[str, Any]) -> SlackMessage:
    finished: Sequence[Mapping[str, Any]] = payload.get("finished") or []
    running: Sequence[Mapping[str, Any]] = payload.get("running") or []
    failed = [f for f in finished if f.get("status") == "failed"]
    others = [f for f in finished if f.get("status") != "failed"]
    title = f"Fine-tuning digest for {payload.get('date', 'today')}"
    counts = _counts(finished, running)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title)),
        ContextBlock(elements=[MarkdownTextObject(text=counts)]),
    ]
    if not finished and not running:
        blocks.append(_section("Nothing finished since the last digest, and nothing is running."))
    if failed:
        blocks.append(_section("*Failed*\n" + "\n".join(_finished_line(f) for f in failed[:MAX_DIGEST_ROWS])))
    if others:
        blocks.append(
            _section("*Finished*\n" + "\n".join(_finished_line(f) for f in others[:MAX_DIGEST_ROWS]))
        )
    if running:
        blocks.append(
            _section("*Running now*\n" + "\n".join(_running_line(r) for r in running[:MAX_DIGEST_ROWS]))
        )
    cost = payload.get("total_cost")
    if isinstance(cost, int | float) and cost > 0:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=f"Training cost of the finished jobs: {format_usd(float(cost))}")
                ]
            )
        )
    return fit(f"{title}: {counts}", blocks)


def _counts(finished: Sequence[Mapping[str, Any]], running: Sequence[Mapping[str, Any]]) -> str:
    by_status: dict[str, int] = {}
    for item in finished:
        status = str(item.get("status") or "")
        by_status[status] = by_status.get(status, 0) + 1
    parts = [
        f"{count} {status_words(status).lower()}"
        for status, count in sorted(by_status.items(), key=lambda pair: (pair[0] != "failed", pair[0]))
    ]
    parts.append(f"{len(running)} running")
    return ", ".join(parts)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _finished_line(item: Mapping[str, Any]) -> str:
    status = str(item.get("status") or "")
    parts = [f"{status_emoji(status)} {code(str(item.get('job_id')))} {status_words(status).lower()}"]
    model = item.get("fine_tuned_model")
    if model:
        parts.append(f"model {code(str(model))}")
    elif item.get("model"):
        parts.append(f"base {code(str(item.get('model')))}")
    took = item.get("duration")
    if isinstance(took, int | float) and took > 0:
        parts.append(f"took {duration(float(took))}")
    cost = item.get("cost")
    if isinstance(cost, int | float):
        parts.append(format_usd(float(cost)))
    error = item.get("error")
    if error:
        parts.append(f"error: {escape(str(error))[:300]}")
    return " · ".join(parts)


def _running_line(item: Mapping[str, Any]) -> str:
    status = str(item.get("status") or "")
    line = f"{status_emoji(status)} {code(str(item.get('job_id')))} {status_words(status).lower()}"
    step, total = item.get("step"), item.get("total_steps")
    if isinstance(step, int) and isinstance(total, int) and total > 0:
        line += f" · step {step} of {total} {progress_bar(max(0.0, min(1.0, step / total)))}"
    if item.get("model"):
        line += f" · base {code(str(item.get('model')))}"
    return line


# ---- the end of quiet hours ---------------------------------------------------------------------------


def quiet_summary_message(payload: Mapping[str, Any]) -> SlackMessage:
    notes: Sequence[Mapping[str, Any]] = payload.get("notes") or []
    jobs: dict[str, list[str]] = {}
    for note in notes:
        job_id = str(note.get("job_id"))
        current = str(note.get("current") or note.get("status") or "")
        word = (
            "looked stuck"
            if str(note.get("transition", "")).startswith("stuck:")
            else status_words(current).lower()
        )
        jobs.setdefault(job_id, []).append(word)
    count = len(notes)
    title = f"While it was quiet: {count} {'change' if count == 1 else 'changes'} to {len(jobs)} {'job' if len(jobs) == 1 else 'jobs'}"
    lines = [f"• {code(job_id)}: {' → '.join(words)}" for job_id, words in jobs.items()]
    return fit(title, [_section(f"*{title}*"), _section("\n".join(lines) or "Nothing changed.")])
