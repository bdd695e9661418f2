"""The words under the loss curve: which checkpoint to use, and the overfitting warning."""

from __future__ import annotations

from bot.charts.advice import CheckpointAdvice
from bot.charts.curves import CheckpointMark
from bot.mrkdwn import code
from bot.views.format import loss, number


def advice_text(job_id: str, advice: CheckpointAdvice, *, has_validation: bool) -> str:
    """The comment posted with the chart (mrkdwn; `fit` makes it safe when it is sent)."""
    lines = [f"📈 Loss curve of {code(job_id)}"]
    best, last = advice.best, advice.last
    if best is not None:
        lines.append(
            f"Lowest validation loss: the checkpoint at step {number(best.step)}, "
            f"{code(best.model)}{_valid(best)}."
        )
        if last is not None and last.step != best.step:
            lines.append(
                f"The final checkpoint (step {number(last.step)}{_valid(last)}) is not the best on "
                f"validation: {code(best.model)} may generalise better."
            )
    elif advice.last is not None and not has_validation:
        lines.append("No validation loss was reported (no validation file?): no checkpoint can be judged.")
    if advice.overfitting:
        rise = " → ".join(loss(value) for _, value in advice.rising)
        lines.append(
            f"⚠️ Possible overfitting: validation loss rose over the last {len(advice.rising)} evaluations "
            f"({rise}) while training loss kept falling."
            + (f" Prefer {code(best.model)}, or train fewer epochs." if best is not None else "")
        )
    return "\n".join(lines)


def _valid(mark: CheckpointMark) -> str:
    return f", validation loss {loss(mark.valid_loss)}" if mark.valid_loss is not None else ""
