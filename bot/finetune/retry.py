"""When a failed request may be sent again, and how long to wait first.

Whether a failure is retryable depends on what the request does if it is repeated (`Replay`):

* reads can be repeated freely;
* pause / resume / cancel are repeated after transient failures (connection, timeout, 429, 5xx) but never after
  a 4xx: a 400/409 there is a state conflict that waiting does not fix;
* creating a job is repeated only when the request certainly never left this process (the connection was
  never made). After a timeout or a 5xx the server may already have queued the job, and a second create
  would start a second, billed job. Even a 429 is not retried: its body decides whether it is the daily
  quota, and a person should decide what to do then;
* uploading a file is repeated when it never left, or when the server refused it with a 429.

A 429 whose code is `daily_rate_limit_exceeded` is never retried: it does not clear within minutes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum
from time import time

import httpx

from bot.ops.backoff import exponential, jittered

DAILY_LIMIT_CODE = "daily_rate_limit_exceeded"

Sleep = Callable[[float], Awaitable[None]]


class Replay(Enum):
    """What repeating a request could do, which decides which failures may be retried."""

    SAFE = "safe"  # reads
    STATE_CHANGE = "state_change"  # pause, resume, cancel
    REFUSED_ONLY = "refused_only"  # upload: only if it never left or the server said 429
    UNSENT_ONLY = "unsent_only"  # create: only if it never left


# Failures where the request was never written to the socket.
_UNSENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def never_sent(exc: Exception) -> bool:
    """True when the request certainly did not reach the server (the connection was never made)."""
    return isinstance(exc, _UNSENT_ERRORS)


def retryable_exception(exc: Exception, replay: Replay) -> bool:
    if replay in (Replay.UNSENT_ONLY, Replay.REFUSED_ONLY):
        return never_sent(exc)
    return isinstance(exc, httpx.TransportError)


def retryable_status(status: int, code: str | None, replay: Replay) -> bool:
    if status == 429 and code == DAILY_LIMIT_CODE:
        return False
    if replay is Replay.UNSENT_ONLY:
        return False
    if replay is Replay.REFUSED_ONLY:
        return status == 429
    return status in (408, 429) or status >= 500


def server_delay(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait the server asked for: `retry-after-ms` first, then `retry-after` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by `cap`; a server-requested wait is honoured up to
    `max_server_delay` seconds, and a longer one means the request is not retried at all.

    `jitter` is the share of each backoff that is randomised: 0.25 waits 75–100 % of the backoff
    (like the official SDK), 1.0 is "full jitter" (0–100 %). `sleep` and `uniform` (a random number in
    [0, 1)) are injectable so tests neither wait nor depend on chance.
    """

    max_retries: int = 3
    base: float = 0.5
    cap: float = 8.0
    max_server_delay: float = 60.0
    jitter: float = 0.25
    sleep: Sleep = field(default=asyncio.sleep, repr=False, compare=False)
    uniform: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt + 1` (attempt counts from 0) when the server named none."""
        ceiling = exponential(attempt, base=self.base, cap=self.cap)
        return jittered(ceiling, share=self.jitter, fraction=self.uniform())

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float | None:
        """Seconds to wait before the next try, or None when no further try should be made."""
        if attempt >= self.max_retries:
            return None
        asked = server_delay(headers) if headers is not None else None
        if asked is None:
            return self.backoff(attempt)
        if asked > self.max_server_delay:
            return None
        return asked


NO_RETRY = RetryPolicy(max_retries=0)
