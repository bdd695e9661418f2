"""A model leaving the API: the line on an affected job's card, and the channel's one notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.finetune.models import FineTuningJob
from bot.mrkdwn import code
from bot.views.message import SlackMessage, fit


def _day(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _when(day: dt.date) -> str:
    return day.strftime("%-d %b %Y")


def retirement_blocks(job: FineTuningJob) -> list[ContextBlock]:
    """The shutdown date on a succeeded job's card, once the models' list gave one (bot/watch/retirements.py)."""
    extra = job.model_extra or {}
    day = _day(extra.get("shutdown_date"))
    if job.status != "succeeded" or day is None:
        return []
    text = (
        f"⏳ This model leaves the API on *{_when(day)}*: calls to it fail from then on. Train a "
        "replacement on a newer base model (or on Azure AI Foundry) before then."
    )
    return [ContextBlock(elements=[MarkdownTextObject(text=text)])]


def shutdown_notice_message(payload: Mapping[str, object]) -> SlackMessage:
    """The channel's notice, some weeks before the day."""
    day = _day(payload.get("date"))
    when = _when(day) if day else str(payload.get("date"))
    jobs = payload.get("jobs")
    listed = [j for j in jobs if isinstance(j, Mapping)] if isinstance(jobs, list) else []
    lines = [f"• {code(str(j.get('model')))} (from {code(str(j.get('job_id')))})" for j in listed]
    more = payload.get("more")
    if isinstance(more, int) and more > 0:
        lines.append(f"• and {more} more")
    head = (
        f"⏳ *{len(listed) + (more if isinstance(more, int) else 0)} fine-tuned model"
        f"{'s' if len(listed) != 1 or more else ''} this channel made leave the API on {when}.* "
        "From then on calls to them fail. Train replacements on a newer base model, or move to Azure AI "
        "Foundry, before that day."
    )
    text = head + "\n" + "\n".join(lines)
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])
