"""Exponential backoff: the one formula every retry in the bot waits by.

A wait doubles with each consecutive failure, from `base` up to `cap`. `Backoff` counts the failures of
one thing (a loop, a job, the API); `exponential` is the bare formula, for callers that count their own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

# 2**62 times any sane base is far past any cap; a larger exponent would overflow a float.
_MAX_EXPONENT = 62


def exponential(attempt: int, *, base: float, cap: float) -> float:
    """`base × 2**attempt`, at most `cap` (attempt counts from 0: the first retry waits `base`)."""
    return float(min(cap, base * 2.0 ** min(max(0, attempt), _MAX_EXPONENT)))


def jittered(wait: float, *, share: float, fraction: float) -> float:
    """`wait` less up to `share` of it, by `fraction` (a random number in [0, 1)): 0.25 waits 75–100 %."""
    return wait * (1.0 - share * fraction)


@dataclass
class Backoff:
    """Consecutive failures of one thing, and the wait each one earns."""

    base: float
    cap: float
    failures: int = 0

    def fail(self, asked: float | None = None) -> float:
        """Count one more failure; the wait before the next try (a server's own ask wins if longer)."""
        self.failures += 1
        return max(exponential(self.failures - 1, base=self.base, cap=self.cap), asked or 0.0)

    def succeed(self) -> None:
        self.failures = 0


@dataclass(frozen=True)
class JitteredBackoff:
    """`exponential` waits, each shortened at random by up to `share` of it (so retries spread out)."""

    base: float
    cap: float
    share: float
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def wait(self, attempt: int) -> float:
        """The wait before retry number `attempt + 1` (attempt counts from 0)."""
        return jittered(
            exponential(attempt, base=self.base, cap=self.cap), share=self.share, fraction=self.random()
        )
