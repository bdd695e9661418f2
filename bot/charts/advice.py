"""Which checkpoint to use: the one with the lowest validation loss, and a warning when the run overfits.

Overfitting here is what a person reads off the curve: over the last evaluations the validation loss kept
rising (each one above the one before, by `MIN_RISE` in all) while the training loss kept falling. The
validation series judged is the full one when the job has it (evaluated at epoch ends, not noisy), else
the per-batch one. Fewer than `WINDOW` evaluations say nothing either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from bot.charts.curves import CheckpointMark, Series, TrainingCurves

WINDOW = 3  # evaluations looked at
MIN_RISE = 0.05  # the last one at least 5 % above the first of the window


@dataclass(frozen=True)
class CheckpointAdvice:
    best: CheckpointMark | None  # the checkpoint with the lowest validation loss (None: none has one)
    last: CheckpointMark | None  # the final checkpoint
    rising: Series  # the evaluations that rose while training loss fell; empty when it did not overfit

    @property
    def overfitting(self) -> bool:
        return bool(self.rising)


def advise(curves: TrainingCurves) -> CheckpointAdvice:
    validation = dict(curves.validation)
    scored = [
        (mark.valid_loss if mark.valid_loss is not None else validation.get(mark.step), mark)
        for mark in curves.checkpoints
    ]
    known = [(loss, mark) for loss, mark in scored if loss is not None]
    best = min(known, key=lambda pair: (pair[0], pair[1].step))[1] if known else None
    last = curves.checkpoints[-1] if curves.checkpoints else None
    return CheckpointAdvice(best=best, last=last, rising=_rising(curves.validation, curves.train_loss))


def _rising(validation: Series, train: Series) -> Series:
    if len(validation) < WINDOW or not train:
        return ()
    window = validation[-WINDOW:]
    values = [value for _, value in window]
    if any(later <= earlier for earlier, later in pairwise(values)):
        return ()
    if values[-1] < values[0] * (1 + MIN_RISE):
        return ()
    first_step, last_step = window[0][0], window[-1][0]
    span = last_step - first_step
    during = [v for step, v in train if first_step <= step <= last_step]
    before = [v for step, v in train if first_step - span <= step < first_step]
    if not during or not before:
        return ()
    # Training loss is noisy step to step: compare its mean over the window with the span before it.
    falling = sum(during) / len(during) < sum(before) / len(before)
    return window if falling else ()
