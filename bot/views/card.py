"""The job card: one message per job and channel, edited in place as the job moves."""

from __future__ import annotations

from pydantic import ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.finetune.models import FineTuningJob
from bot.jobs.creator import creator_from_metadata
from bot.jobs.prices import PriceTable, load_price_table
from bot.jobs.records import Progress, TrackedJob
from bot.mrkdwn import code, escape
from bot.views.actions import ACTION_CANCEL, ACTION_PAUSE, ACTION_REFRESH, ACTION_RESUME
from bot.views.after_training_buttons import after_training_buttons
from bot.views.card_states import frozen_card
from bot.views.cost import cost_line
from bot.views.format import (
    duration,
    is_active,
    loss,
    mention,
    number,
    progress_bar,
    relative,
    slack_date,
    status_emoji,
    status_text,
    status_words,
    truncate,
)
from bot.views.job_settings import settings_blocks
from bot.views.message import SlackMessage, fit
from bot.views.retirement import retirement_blocks

MAX_BLOCK_ID = 255


def card_for(tracked: TrackedJob, now: float, *, prices: PriceTable | None = None) -> SlackMessage:
    """The card of a tracked job, drawn from the API object stored with it."""
    return render_card(
        job_from_tracked(tracked),
        tracked.progress,
        creator=tracked.creator,
        now=now,
        provider=tracked.provider,
        prices=prices,
    )


def frozen_card_for(tracked: TrackedJob, now: float, *, by: str | None, command: str) -> SlackMessage:
    """The card left in a channel that stopped following the job (`bot.views.card_states`)."""
    return frozen_card(card_for(tracked, now), job_id=tracked.job_id, at=now, by=by, command=command)


def job_card(
    job: FineTuningJob,
    tracked: TrackedJob | None,
    now: float,
    *,
    provider: str | None = None,
    prices: PriceTable | None = None,
) -> SlackMessage:
    """The card of a job the API just described: as recorded when tracked (with its progress), else as the
    API said (`provider` names the dashboard to link to)."""
    if tracked is not None:
        return card_for(tracked, now, prices=prices)
    return render_card(
        job, Progress(), creator=creator_from_metadata(job), now=now, provider=provider, prices=prices
    )


def job_from_tracked(tracked: TrackedJob) -> FineTuningJob:
    """The stored snapshot as an API object; the tracked fields when there is none (or it is unreadable)."""
    if tracked.snapshot:
        try:
            return FineTuningJob.model_validate(tracked.snapshot)
        except ValidationError:
            pass
    return FineTuningJob(
        id=tracked.job_id,
        created_at=int(tracked.created_at),
        status=tracked.status,
        model=tracked.model,
        user_provided_suffix=tracked.suffix,
    )


def render_card(
    job: FineTuningJob,
    progress: Progress,
    *,
    creator: str | None,
    now: float,
    provider: str | None = None,
    prices: PriceTable | None = None,
) -> SlackMessage:
    """`prices`: the service's price table (`TUNEOPS_PRICES` over the built-in one); None: the built-in."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(f"{status_emoji(job.status)} {job.id}", 150))),
        SectionBlock(text=MarkdownTextObject(text=_summary(job, progress, now))),
        SectionBlock(fields=[MarkdownTextObject(text=field) for field in _facts(job, creator)]),
        *settings_blocks(job, provider),
    ]
    outcome = _outcome(job)
    cost = cost_line(job, prices or load_price_table(None))
    if cost:
        outcome = f"{outcome}\n{cost}" if outcome else cost
    if outcome:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=outcome)))
    blocks.extend(retirement_blocks(job))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"Updated {slack_date(now)} · {code(job.id)}")])
    )
    buttons = job_buttons(job)
    buttons[-1:-1] = after_training_buttons(job)  # Refresh stays last
    blocks.append(ActionsBlock(block_id=_block_id("job_actions", job.id), elements=buttons))
    return fit(_fallback(job), blocks)


def job_buttons(job: FineTuningJob) -> list[ButtonElement]:
    """Buttons by state: running → Pause, Cancel; paused → Resume, Cancel; any other
    not-finished status (queued, validating, or one nobody documented yet) → Cancel; Refresh always."""
    buttons: list[ButtonElement] = []
    if job.status == "running":
        buttons.append(ButtonElement(text="Pause", action_id=ACTION_PAUSE, value=job.id))
    elif job.status == "paused":
        buttons.append(ButtonElement(text="Resume", action_id=ACTION_RESUME, value=job.id, style="primary"))
    if not job.is_terminal:
        buttons.append(
            ButtonElement(
                text="Cancel",
                action_id=ACTION_CANCEL,
                value=job.id,
                style="danger",
                confirm=ConfirmObject(
                    title="Cancel this job?",
                    text=MarkdownTextObject(
                        text=f"This stops {code(truncate(job.id, 200))} for good: "
                        "a cancelled job cannot be resumed."
                    ),
                    confirm="Cancel job",
                    deny="Keep the job",
                    style="danger",
                ),
            )
        )
    buttons.append(ButtonElement(text="Refresh", action_id=ACTION_REFRESH, value=job.id))
    return buttons


def _block_id(prefix: str, job_id: str) -> str:
    return f"{prefix}:{job_id}"[:MAX_BLOCK_ID]


def _summary(job: FineTuningJob, progress: Progress, now: float) -> str:
    headline = f"*{status_text(job.status)}*"
    if progress.step is not None and progress.total_steps and not _stale_at_success(job, progress):
        headline += f" · step {number(progress.step)}/{number(progress.total_steps)}"
    lines = [headline]
    fraction = progress.fraction
    if job.status == "succeeded":
        fraction = 1.0
    if fraction is not None and not (job.is_terminal and job.status != "succeeded"):
        lines.append(f"`{progress_bar(fraction)}`")
    losses = _losses(progress)
    if losses:
        lines.append(f"Latest {losses}")
    finish = progress.estimated_finish or job.estimated_finish
    if finish and is_active(job.status):
        when = relative(finish, now)
        if finish < now - 30:
            when = f"was due {when}"  # the API's estimate has passed: say so rather than look wrong
        lines.append(f"Estimated finish {when} ({slack_date(finish)})")
    return "\n".join(lines)


def _stale_at_success(job: FineTuningJob, progress: Progress) -> bool:
    """A success whose last step read is short of the end: that step is from mid-run, not the finish, so
    it is left out rather than shown beside a full bar."""
    return job.status == "succeeded" and (progress.step or 0) < (progress.total_steps or 0)


def _losses(progress: Progress) -> str:
    parts = []
    if progress.train_loss is not None:
        parts.append(f"train loss {loss(progress.train_loss)}")
    if progress.valid_loss is not None:
        parts.append(f"valid loss {loss(progress.valid_loss)}")
    return " · ".join(parts)


def _facts(job: FineTuningJob, creator: str | None) -> list[str]:
    facts = [
        f"*Base model*\n{code(job.model) if job.model else 'unknown'}",
        f"*Suffix*\n{code(job.suffix) if job.suffix else '—'}",
        f"*Started by*\n{mention(creator) or 'someone outside Slack'}",
        f"*Created*\n{slack_date(job.created_at)}",
    ]
    if job.training_file:
        facts.append(f"*Training file*\n{code(job.training_file)}")
    return facts


def _outcome(job: FineTuningJob) -> str | None:
    if job.status == "succeeded":
        lines = [
            f"*Fine-tuned model*\n{code(job.fine_tuned_model) if job.fine_tuned_model else 'not reported'}"
        ]
        details = []
        if job.trained_tokens is not None:
            details.append(f"Trained tokens: {number(job.trained_tokens)}")
        if job.finished_at:
            details.append(f"Duration: {duration(job.finished_at - job.created_at)}")
            details.append(f"Finished {slack_date(job.finished_at)}")
        if details:
            lines.append(" · ".join(details))
        return "\n".join(lines)
    if job.status == "failed":
        error = job.error
        code_text = code(error.code) if error and error.code else "no error code"
        message = escape(error.message) if error and error.message else "The API gave no reason."
        when = f" ({slack_date(job.finished_at)})" if job.finished_at else ""
        return f"*Error* {code_text}{when}\n{message}"
    if job.status == "cancelled":
        if job.finished_at:
            return f"*Cancelled* {slack_date(job.finished_at)}"
        return "*Cancelled* (the API did not say when)"
    return None


def _fallback(job: FineTuningJob) -> str:
    """The notification text: every part of it comes from the API, so every part is escaped."""
    text = f"{status_emoji(job.status)} Fine-tuning job {escape(job.id)}: {escape(status_words(job.status))}"
    if job.status == "succeeded" and job.fine_tuned_model:
        text += f" — model {escape(job.fine_tuned_model)}"
    if job.status == "failed" and job.error and job.error.message:
        text += f" — {escape(job.error.message)}"
    return text
