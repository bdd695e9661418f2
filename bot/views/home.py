"""The app's Home tab: a person's own jobs and their channels' active jobs, each with the buttons they may
use. Built through `fit` like every message; `home_view` wraps the blocks as a `home` view."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.home.content import HomeContent, HomeJob
from bot.jobs.actions import Action
from bot.jobs.prices import format_usd
from bot.mrkdwn import code, escape
from bot.views.format import duration, number, progress_bar, relative, status_text, truncate
from bot.views.message import MAX_BLOCKS, MAX_TOTAL_TEXT, block_text_length, fit

# Room left for the closing note within what `fit` lets through.
MAX_HOME_BLOCKS = MAX_BLOCKS - 1
MAX_HOME_TEXT = MAX_TOTAL_TEXT - 200
HOME_ACTIONS = (Action.PAUSE, Action.RESUME, Action.CANCEL, Action.REFRESH)
_LABELS = {Action.PAUSE: "Pause", Action.RESUME: "Resume", Action.CANCEL: "Cancel", Action.REFRESH: "Refresh"}


def home_action_id(action: Action) -> str:
    """Home-tab buttons have ids of their own: a click there has no channel or card to act on."""
    return f"home_job_{action}"


HOME_BUTTON_VERBS: dict[str, Action] = {home_action_id(action): action for action in HOME_ACTIONS}


def home_view(content: HomeContent, *, now: float, command: str) -> dict[str, Any]:
    """The view for `views.publish`. Jobs are added while they fit whole (a job's buttons never outlive its
    text); what does not fit is counted at the end."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your fine-tuning jobs"))]
    if content.empty:
        blocks.append(
            _section(
                f"You have no fine-tuning jobs yet, and none is running in your channels. "
                f"Start one with `{command} create`."
            )
        )
    groups: list[tuple[list[Block], list[HomeJob]]] = []
    if content.running:
        groups.append(([_section("*In progress*")], content.running))
    if content.finished:
        groups.append(([_section("*Recently finished*")], content.finished))
    if not content.running and not content.finished and not content.empty:
        blocks.append(_section(f"You have no jobs of your own. Start one with `{command} create`."))
    for channel, jobs in content.channels:
        groups.append(([DividerBlock(), _section(f"*Active in <#{channel}>*")], jobs))
    left_out = 0
    size = sum(_size(block) for block in blocks)
    for heading, jobs in groups:
        for index, item in enumerate(jobs):
            job_blocks = (heading if index == 0 else []) + _job_blocks(item, now)
            grown = size + sum(_size(block) for block in job_blocks)
            if left_out or len(blocks) + len(job_blocks) > MAX_HOME_BLOCKS or grown > MAX_HOME_TEXT:
                left_out += 1
                continue
            blocks += job_blocks
            size = grown
    if left_out:
        more = f"…and {left_out} more {'job' if left_out == 1 else 'jobs'}: `{command} list` in a channel shows its jobs."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    message = fit("Your fine-tuning jobs", blocks)
    return {"type": "home", "blocks": message.blocks}


def _size(block: Block) -> int:
    return block_text_length(block.to_dict())


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _job_blocks(item: HomeJob, now: float) -> list[Block]:
    job, tracked = item.job, item.tracked
    lines = [f"{status_text(job.status)} · {code(job.id)}"]
    facts = []
    if job.model:
        facts.append(f"base {code(job.model)}")
    if job.suffix:
        facts.append(f"suffix {code(job.suffix)}")
    if tracked.creator:
        facts.append(f"by <@{tracked.creator}>")
    facts.append(f"in <#{tracked.owner_channel}>")
    lines.append(" · ".join(facts))
    progress = tracked.progress
    if not job.is_terminal and progress.step is not None and progress.total_steps:
        lines.append(
            f"step {number(progress.step)}/{number(progress.total_steps)} `{progress_bar(progress.fraction or 0)}`"
        )
    if job.is_terminal:
        lines.append(_result(item, now))
    blocks: list[Block] = [_section("\n".join(lines))]
    blocks.append(
        ActionsBlock(block_id=f"home:{job.id}"[:255], elements=[_button(a, job.id) for a in item.actions])
    )
    return blocks


def _result(item: HomeJob, now: float) -> str:
    job = item.job
    parts = []
    if job.status == "succeeded":
        parts.append(f"model {code(job.fine_tuned_model)}" if job.fine_tuned_model else "model not reported")
    elif job.status == "failed" and job.error is not None:
        parts.append(escape(truncate(job.error.message or job.error.code or "failed", 300)))
    if job.finished_at and job.created_at:
        parts.append(f"took {duration(job.finished_at - job.created_at)}")
        parts.append(f"finished {relative(job.finished_at, now)}")
    if item.cost is not None:
        parts.append(f"cost {format_usd(item.cost.usd)}")
    elif job.trained_tokens is not None:
        parts.append(f"{number(job.trained_tokens)} trained tokens (no price known for this model)")
    return " · ".join(parts) or "finished"


def _button(action: Action, job_id: str) -> ButtonElement:
    if action is Action.CANCEL:
        return ButtonElement(
            text="Cancel",
            action_id=home_action_id(action),
            value=job_id,
            style="danger",
            confirm=ConfirmObject(
                title="Cancel this job?",
                text=MarkdownTextObject(text=f"This stops {code(truncate(job_id, 200))} for good."),
                confirm="Cancel job",
                deny="Keep the job",
                style="danger",
            ),
        )
    style = "primary" if action is Action.RESUME else None
    return ButtonElement(text=_LABELS[action], action_id=home_action_id(action), value=job_id, style=style)
