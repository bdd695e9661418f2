"""A job's timeline, computed from its plan, its last anchor and the clock (no background tasks).

A job is an `Anchor` (the state it was put in at some emulated time: created, paused, resumed, set by a
test) plus a `Plan` (how long it trains, whether it fails). `project()` answers "what is it now, and what
happened since the anchor?", so listing 1,000 jobs costs 1,000 small computations and nothing runs between
requests. When a person changes the job (pause, cancel, ...) the store first records what `project()` says
happened, then sets a new anchor.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Literal

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
# States that move on by themselves; every other status (paused, terminal, or an odd one a test set) is frozen.
MOVING = frozenset({"validating_files", "queued", "running"})


@dataclass(frozen=True)
class Timing:
    """Emulated seconds each phase takes (a real job: minutes to hours; `speed` scales them)."""

    validate_s: float = 10.0
    queue_s: float = 20.0
    resume_queue_s: float = 10.0
    step_s: float = 6.0
    metrics_every: int = 10


@dataclass(frozen=True)
class JobFailure:
    code: str
    message: str
    param: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": self.param}


@dataclass(frozen=True)
class Plan:
    total_steps: int
    n_epochs: int
    seed: int
    has_validation: bool
    fine_tuned_model: str
    # Set when the job should fail while running, after reaching this step.
    fail_at_step: int | None = None
    # Set when the job should fail while its files are validated.
    validation_failure: JobFailure | None = None
    trained_tokens: int = 0
    # Validation loss rises over the second part of the run while training loss falls (overfitting).
    overfits: bool = False

    def checkpoint_steps(self) -> tuple[int, ...]:
        """Steps that end one of the last three epochs (OpenAI keeps checkpoints of those only)."""
        first = max(1, self.n_epochs - 2)
        steps = {
            max(1, round(self.total_steps * epoch / self.n_epochs))
            for epoch in range(first, self.n_epochs + 1)
        }
        return tuple(sorted(steps))

    def running_failure(self) -> JobFailure:
        step = self.fail_at_step or 0
        return JobFailure(
            code="server_error",
            message=(
                f"Fine-tuning failed at step {step} due to an internal error. "
                "Please try again, or contact support if the problem persists."
            ),
        )


@dataclass(frozen=True)
class Anchor:
    at: float
    status: str
    step: int = 0
    finished_at: float | None = None
    error: JobFailure | None = None


EventKind = Literal["message", "metrics"]


@dataclass(frozen=True)
class Happening:
    """One event of the job's history, in emulated time."""

    at: float
    message: str
    kind: EventKind = "message"
    level: Literal["info", "warn", "error"] = "info"
    data: dict[str, Any] = field(default_factory=dict)
    checkpoint_step: int | None = None


@dataclass(frozen=True)
class Projection:
    status: str
    step: int
    finished_at: float | None
    error: JobFailure | None
    estimated_finish: float | None
    happenings: tuple[Happening, ...]

    def as_anchor(self, at: float) -> Anchor:
        return Anchor(at, self.status, self.step, self.finished_at, self.error)


def metrics_at(plan: Plan, step: int) -> dict[str, float]:
    """Training metrics at `step`: deterministic from the job's seed, decreasing loss with some noise."""
    frac = step / plan.total_steps
    rng = random.Random(plan.seed * 1_000_003 + step)
    start = 1.6 + (plan.seed % 97) / 200
    train_loss = 0.22 + start * math.exp(-3.0 * frac) + rng.uniform(-0.06, 0.06)
    train_acc = 0.55 + 0.4 * (1 - math.exp(-3.0 * frac)) + rng.uniform(-0.02, 0.02)
    out: dict[str, float] = {
        "train_loss": round(max(train_loss, 0.01), 4),
        "train_mean_token_accuracy": round(min(max(train_acc, 0.0), 1.0), 4),
    }
    if plan.has_validation:
        # An overfitting run: the validation loss climbs away from the training loss after a fifth of it.
        drift = max(0.0, frac - 0.2) * 2.0 if plan.overfits else 0.0
        valid_loss = train_loss * 1.07 + 0.03 + rng.uniform(-0.05, 0.05) + drift
        full_valid = train_loss * 1.05 + 0.04 + drift
        out["valid_loss"] = round(max(valid_loss, 0.01), 4)
        out["valid_mean_token_accuracy"] = round(min(max(train_acc - 0.03, 0.0), 1.0), 4)
        out["full_valid_loss"] = round(max(full_valid, 0.01), 4)
        out["full_valid_mean_token_accuracy"] = round(min(max(train_acc - 0.02, 0.0), 1.0), 4)
    return out


def metrics_message(plan: Plan, step: int, metrics: dict[str, float]) -> str:
    text = f"Step {step}/{plan.total_steps}: training loss={metrics['train_loss']:.2f}"
    if "valid_loss" in metrics:
        text += f", validation loss={metrics['valid_loss']:.2f}"
    if "full_valid_loss" in metrics:
        text += f", full validation loss={metrics['full_valid_loss']:.2f}"
    return text


def checkpoint_model(plan: Plan, step: int, *, azure: bool) -> str:
    separator = "-" if azure else ":"
    return f"{plan.fine_tuned_model}{separator}ckpt-step-{step}"


def project(
    plan: Plan, anchor: Anchor, now: float, timing: Timing, *, with_events: bool = True
) -> Projection:
    """The job at emulated time `now`, and (when `with_events`) what happened between the anchor and `now`."""
    events: list[Happening] = []
    status, step, t = anchor.status, anchor.step, anchor.at

    def emit(at: float, message: str, **details: Any) -> None:
        # Listing many jobs needs only their status: skip building events nobody will read.
        if with_events:
            events.append(Happening(at, message, **details))

    def frozen() -> Projection:
        return Projection(status, step, anchor.finished_at, anchor.error, None, tuple(events))

    if status not in MOVING:
        return frozen()

    if status == "validating_files":
        end = t + timing.validate_s
        if now < end:
            return Projection(status, step, None, None, None, tuple(events))
        if plan.validation_failure is not None:
            emit(end, plan.validation_failure.message, level="error")
            return Projection("failed", step, end, plan.validation_failure, None, tuple(events))
        emit(end, "Files validated, moving job to queued state")
        status, t = "queued", end

    if status == "queued":
        end = t + (timing.queue_s if step == 0 else timing.resume_queue_s)
        if now < end:
            return Projection(status, step, None, None, None, tuple(events))
        message = "Fine-tuning job started" if step == 0 else f"Fine-tuning job resumed from step {step}"
        emit(end, message)
        status, t = "running", end

    # running: step k is reached at t + (k - start) * step_s
    start = step
    failing = plan.fail_at_step is not None and plan.fail_at_step > start
    last = plan.fail_at_step if failing and plan.fail_at_step is not None else plan.total_steps
    last = max(last, start)
    reached = start if now < t else min(last, start + int((now - t) // timing.step_s))
    if with_events:
        checkpoints = set(plan.checkpoint_steps())
        for k in range(start + 1, reached + 1):
            at = t + (k - start) * timing.step_s
            if k % timing.metrics_every == 0 or k == plan.total_steps or k in checkpoints:
                metrics = metrics_at(plan, k)
                data: dict[str, Any] = {"step": k, "total_steps": plan.total_steps, **metrics}
                emit(at, metrics_message(plan, k, metrics), kind="metrics", data=data)
            if k in checkpoints:
                emit(at, f"Checkpoint created at step {k}", checkpoint_step=k)
    step = reached
    end_at = t + (last - start) * timing.step_s
    if reached >= last and now >= end_at:
        if failing:
            failure = plan.running_failure()
            emit(end_at, failure.message, level="error")
            return Projection("failed", step, end_at, failure, None, tuple(events))
        emit(end_at, f"New fine-tuned model created: {plan.fine_tuned_model}")
        emit(end_at, "The job has successfully completed")
        return Projection("succeeded", step, end_at, None, None, tuple(events))
    finish = t + (plan.total_steps - start) * timing.step_s
    return Projection("running", step, None, None, finish, tuple(events))


def results_csv(plan: Plan, *, azure: bool, timing: Timing | None = None) -> bytes:
    """The results file of a finished job: a header and one row per step (columns differ by provider)."""
    if azure:
        columns = [
            "step",
            "train_loss",
            "train_mean_token_accuracy",
            "valid_loss",
            "validation_mean_token_accuracy",
            "full_valid_loss",
            "full_valid_mean_token_accuracy",
        ]
        keys = [
            "train_loss",
            "train_mean_token_accuracy",
            "valid_loss",
            "valid_mean_token_accuracy",
            "full_valid_loss",
            "full_valid_mean_token_accuracy",
        ]
    else:
        columns = ["step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"]
        keys = ["train_loss", "train_mean_token_accuracy", "valid_loss", "valid_mean_token_accuracy"]
    every = (timing or Timing()).metrics_every
    checkpoints = set(plan.checkpoint_steps())
    lines = [",".join(columns)]
    for step in range(1, plan.total_steps + 1):
        metrics = metrics_at(plan, step)
        cells = [str(step)]
        for key in keys:
            # Validation runs every `metrics_every` steps; full validation only at epoch ends.
            skip = (key.startswith("valid") and step % every != 0) or (
                key.startswith("full_valid") and step not in checkpoints
            )
            cells.append("" if skip or key not in metrics else f"{metrics[key]}")
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()
