"""`/finetune events`: the latest events of a job, oldest first, one line each."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from bot.finetune.models import JobEvent, Metrics
from bot.mrkdwn import code, escape
from bot.views.format import loss, number, percent, slack_time, truncate
from bot.views.message import MAX_SECTION_TEXT, SlackMessage, fit

LEVEL_EMOJI = {"info": "ℹ️", "warn": "⚠️", "warning": "⚠️", "error": "🛑"}
METRICS_EMOJI = "📈"
MAX_LINE = 600


def events_message(job_id: str, events: Sequence[JobEvent]) -> SlackMessage:
    title = truncate(f"Latest events of {job_id}", 150)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title))]
    if not events:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"{code(job_id)} has no events yet.")))
        return fit(f"{job_id} has no events yet", blocks)
    lines = [event_line(event) for event in sorted(events, key=lambda e: e.created_at)]
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunk_lines(lines))
    return fit(f"Latest {len(events)} events of {job_id}", blocks)


def event_line(event: JobEvent) -> str:
    when = slack_time(event.created_at)
    metrics = event.metrics
    if metrics is not None:
        return f"{when} {METRICS_EMOJI} {metrics_text(metrics)}"
    emoji = LEVEL_EMOJI.get(event.level.lower(), "•")
    return f"{when} {emoji} {truncate(escape(event.message), MAX_LINE) or '(no message)'}"


def metrics_text(metrics: Metrics) -> str:
    parts = []
    if metrics.step is not None:
        total = f"/{number(metrics.total_steps)}" if metrics.total_steps else ""
        parts.append(f"step {number(metrics.step)}{total}")
    if metrics.train_loss is not None:
        parts.append(f"train loss {loss(metrics.train_loss)}")
    valid = metrics.full_valid_loss if metrics.full_valid_loss is not None else metrics.valid_loss
    if valid is not None:
        parts.append(f"valid loss {loss(valid)}")
    if metrics.train_mean_token_accuracy is not None:
        parts.append(f"train accuracy {percent(metrics.train_mean_token_accuracy)}")
    accuracy = (
        metrics.full_valid_mean_token_accuracy
        if metrics.full_valid_mean_token_accuracy is not None
        else metrics.valid_mean_token_accuracy
    )
    if accuracy is not None:
        parts.append(f"valid accuracy {percent(accuracy)}")
    return " · ".join(parts) or "metrics"


def chunk_lines(lines: Sequence[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Pack lines into as few section texts as the section limit allows."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
