"""`/finetune checkpoints`: the checkpoints a job saved, newest first, with their figures."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from bot.finetune.models import Checkpoint
from bot.mrkdwn import code
from bot.views.events import chunk_lines, metrics_text
from bot.views.format import number, slack_time, truncate
from bot.views.message import SlackMessage, fit


def checkpoints_message(job_id: str, checkpoints: Sequence[Checkpoint]) -> SlackMessage:
    title = truncate(f"Checkpoints of {job_id}", 150)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title))]
    if not checkpoints:
        # Azure lists checkpoints only once a job has finished, OpenAI as soon as they are saved: say both
        # without naming providers (only the API client knows which one this is).
        text = (
            f"The API lists no checkpoints for {code(job_id)} yet. Checkpoints are saved at the end of the "
            "last epochs, and some providers list them only once the job has finished."
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        return fit(f"No checkpoints listed for {job_id} yet", blocks)
    ordered = sorted(checkpoints, key=lambda c: (c.step_number or 0, c.created_at), reverse=True)
    lines = [checkpoint_line(checkpoint) for checkpoint in ordered]
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunk_lines(lines))
    return fit(f"{len(checkpoints)} checkpoints of {job_id}", blocks)


def checkpoint_line(checkpoint: Checkpoint) -> str:
    step = f"*step {number(checkpoint.step_number)}*" if checkpoint.step_number is not None else "*step ?*"
    name = (
        code(checkpoint.fine_tuned_model_checkpoint) if checkpoint.fine_tuned_model_checkpoint else "no model"
    )
    figures = metrics_text(checkpoint.metrics.model_copy(update={"step": None, "total_steps": None}))
    parts = [step, name]
    if figures != "metrics":
        parts.append(figures)
    parts.append(slack_time(checkpoint.created_at))
    return " · ".join(parts)
