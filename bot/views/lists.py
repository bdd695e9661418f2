"""`/finetune list`: one compact section per job, newest first, with a "Next page" button when more wait."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.finetune.models import FineTuningJob
from bot.jobs.lists import PAGE_SIZE, JobListPage
from bot.jobs.records import Progress, TrackedJob
from bot.mrkdwn import code
from bot.views.actions import ACTION_NEXT_PAGE
from bot.views.card import job_from_tracked
from bot.views.format import mention, number, progress_bar, slack_date, status_text, truncate
from bot.views.message import SlackMessage, fit

MAX_BUTTON_VALUE = 2000


def job_list_page(page: JobListPage) -> SlackMessage:
    """A page of `/finetune list`, titled after what was asked for."""
    cursor = page.cursor
    title = {
        "channel": "Jobs in this channel",
        "active": "Active jobs in this channel",
        "all": "All fine-tuning jobs of the account",
    }[cursor.scope] + (" that you started" if cursor.mine else "")
    if cursor.scope == "all":
        return api_job_list(
            page.from_api,
            title=title,
            page=cursor.page,
            next_value=page.next_value,
            creators=page.creators,
            empty_text="No jobs you started through TuneOps." if cursor.mine else "The account has no jobs.",
        )
    kwargs: dict[str, Any] = {}
    if cursor.scope != "channel" or cursor.mine:
        kwargs["empty_text"] = "No jobs match here."
    return tracked_job_list(page.tracked, title=title, page=cursor.page, next_value=page.next_value, **kwargs)


def tracked_job_list(
    jobs: Sequence[TrackedJob],
    *,
    title: str,
    page: int = 1,
    next_value: str | None = None,
    empty_text: str = "No jobs here yet. Start one with `/finetune create`, or follow one with `/finetune watch <job-id>`.",
) -> SlackMessage:
    """A channel's jobs (from storage), with their progress and creators."""
    rows = [(job_from_tracked(job), job.progress, job.creator) for job in jobs]
    return _render(rows, title=title, page=page, next_value=next_value, empty_text=empty_text)


def api_job_list(
    jobs: Sequence[FineTuningJob],
    *,
    title: str,
    page: int = 1,
    next_value: str | None = None,
    creators: Mapping[str, str | None] | None = None,
    empty_text: str = "The account has no fine-tuning jobs.",
) -> SlackMessage:
    """The account's jobs straight from the API (`list all`); `next_value` carries the `after` cursor.

    `creators` names the Slack user for jobs TuneOps also tracks; others show no creator."""
    known = creators or {}
    rows = [(job, Progress(), known.get(job.id)) for job in jobs]
    return _render(rows, title=title, page=page, next_value=next_value, empty_text=empty_text)


def job_list(
    jobs: Sequence[TrackedJob | FineTuningJob],
    *,
    title: str,
    page: int = 1,
    has_more: bool = False,
    next_value: str | None = None,
) -> SlackMessage:
    """Either kind of job; the Next page button appears when `has_more` and `next_value` are given."""
    rows = [
        (job_from_tracked(job), job.progress, job.creator)
        if isinstance(job, TrackedJob)
        else (job, Progress(), None)
        for job in jobs
    ]
    return _render(
        rows,
        title=title,
        page=page,
        next_value=next_value if has_more else None,
        empty_text="No jobs to show.",
    )


def _render(
    rows: Sequence[tuple[FineTuningJob, Progress, str | None]],
    *,
    title: str,
    page: int,
    next_value: str | None,
    empty_text: str,
) -> SlackMessage:
    header = truncate(title if page <= 1 else f"{title} (page {page})", 150)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=header))]
    if not rows:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty_text)))
        return fit(f"{title}: none", blocks)
    ordered = sorted(rows, key=lambda row: row[0].created_at, reverse=True)
    shown = ordered[: PAGE_SIZE * 2]  # a caller passing too many still gets a valid message
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=_row(*row))) for row in shown)
    if len(ordered) > len(shown):
        blocks.append(_note(f"…{len(ordered) - len(shown)} more not shown"))
    if next_value and len(next_value) <= MAX_BUTTON_VALUE:
        blocks.append(
            ActionsBlock(
                block_id="jobs_pagination",
                elements=[ButtonElement(text="Next page", action_id=ACTION_NEXT_PAGE, value=next_value)],
            )
        )
    count = len(rows)
    return fit(f"{title}: {count} job{'s' if count != 1 else ''}", blocks)


def _row(job: FineTuningJob, progress: Progress, creator: str | None) -> str:
    first = f"{status_text(job.status)} · *{code(job.id)}*"
    if progress.fraction is not None and not job.is_terminal:
        first += f" · `{progress_bar(progress.fraction)}`"
        if progress.step is not None and progress.total_steps:
            first += f" step {number(progress.step)}/{number(progress.total_steps)}"
    second = [code(job.model) if job.model else "unknown model"]
    if job.suffix:
        second.append(f"suffix {code(job.suffix)}")
    if job.status == "succeeded" and job.fine_tuned_model:
        second.append(f"→ {code(job.fine_tuned_model)}")
    who = mention(creator)
    if who:
        second.append(f"by {who}")
    second.append(f"created {slack_date(job.created_at)}")
    return first + "\n" + " · ".join(second)


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
