"""The words around the loss curve: the comment posted with it (which checkpoint to use, the overfitting
warning), its title and alt text, and the answers to `/finetune chart`."""

from __future__ import annotations

from bot.charts.advice import CheckpointAdvice
from bot.charts.curves import CheckpointMark
from bot.mrkdwn import code
from bot.views.format import loss, number
from bot.views.message import SlackMessage, fit
from bot.views.replies import sentence


def chart_comment(job_id: str, advice: CheckpointAdvice, *, has_validation: bool) -> SlackMessage:
    """The comment posted with the chart (its `text` is the upload's `initial_comment`)."""
    return fit(advice_text(job_id, advice, has_validation=has_validation), [])


def chart_title(job_id: str, model: str) -> str:
    return f"Loss curve of {job_id} ({model})" if model else f"Loss curve of {job_id}"


def chart_alt_text(job_id: str) -> str:
    return f"Training and validation loss by step of {job_id}, checkpoints marked"


def chart_posted(job_id: str, *, in_thread: bool) -> SlackMessage:
    where = "in the thread of its card" if in_thread else "in this channel"
    return sentence(f"Posted the loss curve of {code(job_id)} {where}.")


def nothing_to_chart(job_id: str) -> SlackMessage:
    return sentence(
        f"{code(job_id)} has no training figures to chart yet: the curve appears once it has trained some steps."
    )


def advice_text(job_id: str, advice: CheckpointAdvice, *, has_validation: bool) -> str:
    """The comment's words (mrkdwn)."""
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
