"""How often the watcher reads a job, and how it slows down when the API is unhappy.

Running (and unknown, treated as active) jobs are read every `interval` seconds; waiting ones (queued,
validating files) less often; paused ones rarely (only a resume changes them, and the bot reads that
answer itself); finished ones never again after their final read. Failures slow things down and never
stop them: a job that cannot be read backs off on its own (`JobBackoff`), and a rate limit or an outage
pauses every API call for a while (`ApiBackoff`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.finetune.models import StatusGroup, status_group
from bot.ops.backoff import Backoff

WAITING_STATUSES = frozenset({"queued", "validating_files", "pending", "created"})


@dataclass(frozen=True)
class PollPolicy:
    interval: float = 30.0
    waiting_factor: float = 3.0
    paused_factor: float = 10.0
    paused_cap: float = 900.0
    # A little spread so jobs created together do not stay in lockstep forever.
    spread: float = 0.05
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def delay_for(self, status: str) -> float:
        group = status_group(status)
        if group is StatusGroup.PARKED:
            # `paused_factor` × interval, at most `paused_cap`, but never more often than `interval`.
            base = max(self.interval, min(self.interval * self.paused_factor, self.paused_cap))
        elif status in WAITING_STATUSES:
            base = self.interval * self.waiting_factor
        else:
            base = self.interval
        return base * (1.0 + self.spread * self.random())

    def next_poll_at(self, status: str, now: float) -> float:
        return now + self.delay_for(status)


class ApiBackoff:
    """A pause on every API call after a rate limit or an outage (the API is shared by every job)."""

    def __init__(self, *, base: float, cap: float) -> None:
        self._backoff = Backoff(base=base, cap=cap)
        self.until = 0.0

    def blocked(self, now: float) -> bool:
        return now < self.until

    def fail(self, now: float, asked: float | None = None) -> float:
        wait = self._backoff.fail(asked)
        self.until = now + wait
        return wait

    def succeed(self) -> None:
        self._backoff.succeed()

    @property
    def failures(self) -> int:
        return self._backoff.failures


class JobBackoff:
    """Per-job backoff for a job the API will not return (deleted, a 404, an unreadable answer)."""

    def __init__(self, *, base: float, cap: float) -> None:
        self._base = base
        self._cap = cap
        self._jobs: dict[str, Backoff] = {}

    def fail(self, job_id: str) -> float:
        backoff = self._jobs.setdefault(job_id, Backoff(base=self._base, cap=self._cap))
        return backoff.fail()

    def succeed(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def failures(self, job_id: str) -> int:
        backoff = self._jobs.get(job_id)
        return backoff.failures if backoff else 0
