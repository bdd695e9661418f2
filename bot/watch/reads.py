"""How the watcher talks to the API: a bounded number of reads at once, each with its own deadline.

A read past its deadline (retries included) is abandoned as `ReadTooSlow`, about that job alone; a failure
that says the API as a whole is unwell (rate limit, 5xx, unreachable, credentials) is `ApiTrouble`, which
pauses every read for a while.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.finetune.errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    FineTuneError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnexpectedResponseError,
)
from bot.finetune.models import FineTuningJob

T = TypeVar("T")


class ApiTrouble(Exception):
    """The API as a whole is refusing or failing (rate limit, 5xx, unreachable, bad credentials)."""

    def __init__(self, cause: FineTuneError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class ReadTooSlow(FineTuneError):
    """A read that missed the watcher's per-read deadline: abandoned for this cycle, about this job alone."""


# After this many failed reads in a row, the job's channels are told that it cannot be read (once).
UNREADABLE_AFTER = 3


def unreadable_reason(error: FineTuneError) -> str:
    """Why a job cannot be read, in the words its channel is told."""
    if isinstance(error, NotFoundError):
        return "the API says it does not exist (404)"
    if isinstance(error, ReadTooSlow):
        return "the API takes too long to answer for it"
    if isinstance(error, UnexpectedResponseError):
        return "the API's answer about it is not a job I can understand"
    return str(error) or type(error).__name__


def read_deadline_for(interval: float) -> float:
    """How long one watcher read may take: a third of the poll interval, at least 1 s, at most 10 s.

    Well under the interval, so one slow job cannot hold a cycle (and every other job's notes) for long;
    the floor keeps a short test interval from cutting off ordinary reads."""
    return min(10.0, max(1.0, interval / 3))


def is_api_wide(error: FineTuneError) -> bool:
    if isinstance(error, RateLimitError | InternalServerError | AuthenticationError | PermissionDeniedError):
        return True
    if isinstance(error, APIStatusError):
        return error.status_code == 408 or error.status_code >= 500
    return isinstance(error, APIConnectionError)


@dataclass(frozen=True)
class JobRead:
    """A job as the API answered, and when the request that read it was sent."""

    job: FineTuningJob
    read_at: float


class ApiReader:
    def __init__(self, clock: Callable[[], float], *, concurrency: int, deadline: float) -> None:
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self.deadline = deadline

    async def call(self, request: Awaitable[T]) -> T:
        return (await self.call_stamped(request))[0]

    async def call_stamped(self, request: Awaitable[T]) -> tuple[T, float]:
        """The answer, and the clock just before the request went out (after waiting for a free slot).

        Storage compares that send time with the time of a person's action (a Pause answered while this
        poll was under way), and drops the older read instead of recording it over the newer one. A read
        past `read_deadline` (retries included) is abandoned as `ReadTooSlow`: its slot goes to the next."""
        async with self._slots:
            sent_at = self._clock()
            try:
                async with asyncio.timeout(self.deadline):
                    return await request, sent_at
            except TimeoutError as exc:
                raise ReadTooSlow(f"the fine-tuning API did not answer within {self.deadline:.0f}s") from exc
            except FineTuneError as exc:
                if is_api_wide(exc):
                    raise ApiTrouble(exc) from exc
                raise
