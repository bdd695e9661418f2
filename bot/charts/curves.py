"""A job's training figures by step, from its results file, its metrics events and its checkpoints.

The results file has a row per step but only once the job has succeeded; metrics events exist for any job
that trained (a cancelled or failed one too) but only every few steps. The file wins where both have a
step; events fill the steps it lacks. Column names differ between providers, so each series accepts the
names either uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.finetune.models import Checkpoint, JobEvent, Metrics
from bot.finetune.results import ResultsTable

Series = tuple[tuple[int, float], ...]  # (step, value), by step

# Series name → the results-file columns and the metrics field that hold it.
_SOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "train_loss": (("train_loss",), "train_loss"),
    "valid_loss": (("valid_loss",), "valid_loss"),
    "full_valid_loss": (("full_valid_loss",), "full_valid_loss"),
    "train_accuracy": (("train_accuracy", "train_mean_token_accuracy"), "train_mean_token_accuracy"),
    "valid_accuracy": (
        ("valid_mean_token_accuracy", "validation_mean_token_accuracy"),
        "valid_mean_token_accuracy",
    ),
}


@dataclass(frozen=True)
class CheckpointMark:
    step: int
    model: str  # the checkpoint's model id (`ft:…:ckpt-step-N`), what a person deploys or tries
    train_loss: float | None
    valid_loss: float | None  # the full validation loss when the checkpoint has one, else the batch's


@dataclass(frozen=True)
class TrainingCurves:
    train_loss: Series = ()
    valid_loss: Series = ()
    full_valid_loss: Series = ()
    train_accuracy: Series = ()
    valid_accuracy: Series = ()
    checkpoints: tuple[CheckpointMark, ...] = ()

    @property
    def has_losses(self) -> bool:
        return bool(self.train_loss or self.valid_loss or self.full_valid_loss)

    @property
    def validation(self) -> Series:
        """The validation loss to judge by: the full one when the job has it (less noisy), else the batch's."""
        return self.full_valid_loss or self.valid_loss


def curves_from(
    results: ResultsTable | None, events: Iterable[JobEvent], checkpoints: Sequence[Checkpoint] = ()
) -> TrainingCurves:
    metrics = [m for m in (event.metrics for event in events) if m is not None and m.step is not None]
    series = {name: _series(name, results, metrics) for name in _SOURCES}
    return TrainingCurves(
        train_loss=series["train_loss"],
        valid_loss=series["valid_loss"],
        full_valid_loss=series["full_valid_loss"],
        train_accuracy=series["train_accuracy"],
        valid_accuracy=series["valid_accuracy"],
        checkpoints=_marks(checkpoints),
    )


def _series(name: str, results: ResultsTable | None, metrics: Sequence[Metrics]) -> Series:
    columns, field = _SOURCES[name]
    by_step: dict[int, float] = {}
    for m in metrics:
        value = getattr(m, field)
        if m.step is not None and isinstance(value, int | float):
            by_step[m.step] = float(value)
    if results is not None:
        column = next((c for c in columns if c in results.columns), None)
        if column is not None:
            for row in results.rows:
                step, value = row.get("step"), row.get(column)
                if isinstance(step, int) and isinstance(value, int | float):
                    by_step[step] = float(value)
    return tuple(sorted(by_step.items()))


def _marks(checkpoints: Sequence[Checkpoint]) -> tuple[CheckpointMark, ...]:
    marks = []
    for checkpoint in checkpoints:
        step = checkpoint.step_number if checkpoint.step_number is not None else checkpoint.metrics.step
        if step is None:
            continue
        m = checkpoint.metrics
        marks.append(
            CheckpointMark(
                step=step,
                model=checkpoint.fine_tuned_model_checkpoint or checkpoint.id,
                train_loss=m.train_loss,
                valid_loss=m.full_valid_loss if m.full_valid_loss is not None else m.valid_loss,
            )
        )
    return tuple(sorted(marks, key=lambda mark: mark.step))
