"""Progress figures from what the API says: metrics events, the job object and (at the end) the results file.

A field the new data does not mention stays None, which storage reads as "keep the stored value".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.finetune.models import FineTuningJob, JobEvent
from bot.finetune.results import ResultsTable
from bot.jobs.records import Progress

# "Fine-tuning job paused at step 18", "Checkpoint created at step 20": the API's own words about a step
# reached between two metrics events (those come every few steps).
STEP_IN_MESSAGE = re.compile(r"\bat step (\d+)\b")


def progress_from(job: FineTuningJob, events: Iterable[JobEvent]) -> Progress:
    """The latest step, total steps and losses among `events` (oldest first), and the job's ETA. A message
    naming the step it happened at counts as well: a pause between metrics events stopped there."""
    step: int | None = None
    total: int | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    for event in events:
        metrics = event.metrics
        if metrics is None:
            said = STEP_IN_MESSAGE.search(event.message or "") if event.type != "metrics" else None
            if said is not None:
                step = max(step or 0, int(said.group(1)))
            continue
        if metrics.step is not None:
            step = metrics.step
        if metrics.total_steps is not None:
            total = metrics.total_steps
        if metrics.train_loss is not None:
            train_loss = metrics.train_loss
        latest_valid = metrics.full_valid_loss if metrics.full_valid_loss is not None else metrics.valid_loss
        if latest_valid is not None:
            valid_loss = latest_valid
    return Progress(
        step=step,
        total_steps=total,
        train_loss=train_loss,
        valid_loss=valid_loss,
        estimated_finish=job.estimated_finish,
    )


def with_final_losses(progress: Progress, results: ResultsTable) -> Progress:
    """Fill losses the events did not give from the last values of the results file."""
    train = progress.train_loss if progress.train_loss is not None else results.latest("train_loss")
    valid = progress.valid_loss
    if valid is None:
        valid = results.latest("full_valid_loss")
    if valid is None:
        valid = results.latest("valid_loss")
    last_step = (results.last() or {}).get("step")
    step = progress.step if progress.step is not None or not isinstance(last_step, int) else last_step
    return Progress(
        step=step,
        total_steps=progress.total_steps,
        train_loss=train,
        valid_loss=valid,
        estimated_finish=progress.estimated_finish,
    )
