"""Progress notes: a thread note when a job passes 25, 50 or 75 % of its steps, for the channels whose
settings ask for them (`/finetune settings`: every quarter, or only half-way).

Decided after each read is recorded, from the progress stored before it and the progress it saw. A note is
queued once per job, channel and mark (the outbox is unique on them), so two reads racing past the same
mark give one note.
"""

from __future__ import annotations

from bot.jobs.channel_settings import choices_wanting, crossed_marks
from bot.jobs.records import Progress, TrackedJob
from bot.services import Services
from storage.errors import DatabaseUnavailable


async def queue_progress_notes(services: Services, tracked: TrackedJob, seen: Progress, *, now: float) -> int:
    """Queue the notes of the marks the job just passed; how many rows were queued."""
    step = seen.step if seen.step is not None else tracked.progress.step
    total = seen.total_steps if seen.total_steps is not None else tracked.progress.total_steps
    after = Progress(step=step, total_steps=total).fraction
    queued = 0
    for mark in crossed_marks(tracked.progress.fraction, after):
        payload: dict[str, object] = {"percent": mark, "step": step, "total_steps": total}
        if seen.train_loss is not None:
            payload["train_loss"] = seen.train_loss
        try:
            queued += await services.store.enqueue_progress(
                tracked.job_id, mark, choices=choices_wanting(mark), payload=payload, now=now
            )
        except DatabaseUnavailable:
            return queued  # a progress note is not worth failing the read over
    return queued
