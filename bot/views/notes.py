"""Thread replies under a job card (one per status change) and the notes the notifier broadcasts.

Succeeded, failed, cancelled and paused are the changes people act on: they are also broadcast to the
channel and mention the job's creator, so the person who started the job is notified.
"""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.finetune.models import FineTuningJob
from bot.jobs.records import Progress
from bot.mrkdwn import code, escape
from bot.views.format import duration, loss, mention, number, status_emoji, status_text, status_words
from bot.views.message import SlackMessage, fit

BROADCAST_STATUSES = frozenset({"succeeded", "failed", "cancelled", "paused"})

# What each status means to someone reading the thread, when nobody in Slack caused it.
_MEANINGS: dict[str, str] = {
    "validating_files": "checking the training data",
    "created": "accepted by the API",
    "pending": "waiting to be scheduled",
    "queued": "waiting for capacity",
    "pausing": "pausing after the current step",
    "resuming": "picking up where it stopped",
}
_ACTOR_VERBS: dict[str, str] = {
    "paused": "Paused",
    "pausing": "Pausing",
    "running": "Resumed",
    "resuming": "Resuming",
    "cancelled": "Cancelled",
}


def should_broadcast(current: str) -> bool:
    return current in BROADCAST_STATUSES


def status_note(
    job: FineTuningJob,
    *,
    previous: str,
    current: str,
    creator: str | None,
    actor: str | None,
    progress: Progress,
    mention_creator: bool = True,
) -> SlackMessage:
    """`mention_creator=False` (a channel's settings): the outcome line names nobody."""
    lines = [_headline(job, previous=previous, current=current, actor=actor, progress=progress)]
    lines.extend(_details(job, current=current, progress=progress))
    if should_broadcast(current):
        who = mention(creator) if mention_creator else None
        if who:
            subject = f"{who}, your job {code(job.id)}"
        elif mention_creator:
            subject = f"Job {code(job.id)} (started outside Slack)"
        else:
            subject = f"Job {code(job.id)}"
        lines.append(f"{subject} {_outcome_verb(current)}.")
    text = "\n".join(lines)
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def progress_note(job: FineTuningJob, payload: dict[str, object]) -> SlackMessage:
    """ "50 % done": a channel that asked for progress notes (its settings)."""
    percent, step, total = payload.get("percent"), payload.get("step"), payload.get("total_steps")
    text = f"📈 {code(job.id)} is {percent} % through training"
    if isinstance(step, int) and isinstance(total, int):
        text += f" (step {number(step)}/{number(total)})"
    train_loss = payload.get("train_loss")
    if isinstance(train_loss, int | float):
        text += f", train loss {loss(float(train_loss))}"
    text += "."
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def stuck_note(job: FineTuningJob, *, quiet_for: float) -> SlackMessage:
    text = (
        f"🐢 {code(job.id)} looks stuck: no new event for {duration(quiet_for)} while "
        f"{escape(status_words(job.status).lower())}. It may still be working — press Refresh on the card, "
        "or check the provider's dashboard. I will say so here when it moves again."
    )
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def unreadable_note(job_id: str, *, reason: str) -> SlackMessage:
    text = (
        f"⚠️ I can't read {code(job_id)} from the fine-tuning API: {escape(reason)}. "
        "I'll keep trying, less often, and say here when it moves again. "
        "Its card shows the last state I could read."
    )
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def _headline(
    job: FineTuningJob, *, previous: str, current: str, actor: str | None, progress: Progress
) -> str:
    emoji_and_words = status_text(current)
    by = mention(actor)
    if by and current in _ACTOR_VERBS:
        return f"{status_emoji(current)} {_ACTOR_VERBS[current]} by {by}"
    if by and previous in ("paused", "pausing") and current in _MEANINGS:
        # The API answers a resume with "queued": say who resumed it, and what happens next.
        return f"{status_emoji(current)} Resumed by {by} — {_MEANINGS[current]}"
    if current == "running":
        step = ""
        if progress.total_steps:
            step = f" (step {number(progress.step or 0)}/{number(progress.total_steps)})"
        if previous in ("paused", "resuming", "pausing") or (progress.step or 0) > 0:
            return f"{emoji_and_words} again — training resumed{step}"
        return f"{emoji_and_words} — started training{step}"
    if current == "succeeded":
        return f"{emoji_and_words} — training finished"
    if current == "failed":
        return f"{emoji_and_words} — training stopped with an error"
    if current in ("cancelled", "paused"):
        return emoji_and_words
    meaning = _MEANINGS.get(current)
    if meaning:
        return f"{emoji_and_words} — {meaning}"
    return f"{emoji_and_words} — the API reports a status I don't know (was {escape(status_words(previous))})"


def _details(job: FineTuningJob, *, current: str, progress: Progress) -> list[str]:
    lines: list[str] = []
    if current == "succeeded":
        if job.fine_tuned_model:
            lines.append(f"Fine-tuned model: {code(job.fine_tuned_model)}")
        facts = []
        if job.trained_tokens is not None:
            facts.append(f"trained tokens {number(job.trained_tokens)}")
        if job.finished_at:
            facts.append(f"took {duration(job.finished_at - job.created_at)}")
        if progress.train_loss is not None:
            facts.append(f"final train loss {loss(progress.train_loss)}")
        if progress.valid_loss is not None:
            facts.append(f"final valid loss {loss(progress.valid_loss)}")
        if facts:
            summary = " · ".join(facts)
            lines.append(summary[0].upper() + summary[1:])
    elif current == "failed":
        error = job.error
        error_code = code(error.code) if error and error.code else "no error code"
        message = escape(error.message) if error and error.message else "The API gave no reason."
        lines.append(f"Error {error_code}: {message}")
    elif current == "paused" and progress.total_steps:
        lines.append(f"Stopped at step {number(progress.step or 0)}/{number(progress.total_steps)}.")
    return lines


def _outcome_verb(current: str) -> str:
    return {
        "succeeded": "succeeded",
        "failed": "failed",
        "cancelled": "was cancelled",
        "paused": "is paused — press Resume on the card to continue",
    }[current]


def finished_direct_message(note: SlackMessage, *, channel: str) -> SlackMessage:
    """The note a channel just got about a finished job, sent to its creator directly."""
    text = f"From <#{channel}>:\n{note.text}"
    return fit(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def unreachable_channel_note(channel: str) -> SlackMessage:
    """The direct message telling a job's creator (or the admins) the bot cannot post in `channel`."""
    text = f"I can't post in <#{channel}>: invite me with `/invite @TuneOps`, and I'll catch up on its notes."
    return fit(text, [])
