"""The retry policy's decisions on their own: which failures are retried and how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from bot.finetune.retry import Replay, RetryPolicy, retryable_exception, retryable_status, server_delay


def test_backoff_doubles_up_to_the_cap_with_partial_jitter() -> None:
    no_jitter = RetryPolicy(base=0.5, cap=4.0, uniform=lambda: 0.0)
    most_jitter = RetryPolicy(base=0.5, cap=4.0, uniform=lambda: 0.999999)

    assert [no_jitter.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert most_jitter.backoff(2) == pytest.approx(1.5)  # 75 % of 2.0
    assert RetryPolicy(jitter=1.0, uniform=lambda: 0.5).backoff(0) == pytest.approx(0.25)  # full jitter
    assert no_jitter.backoff(10_000) == 4.0


def test_retries_stop_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2, uniform=lambda: 0.0)

    assert policy.delay(0) == 0.5
    assert policy.delay(1) == 1.0
    assert policy.delay(2) is None


def test_server_delay_prefers_milliseconds_then_seconds_then_date() -> None:
    assert server_delay({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert server_delay({"retry-after": "3"}) == 3.0
    when = datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert (
        server_delay({"retry-after": format_datetime(when, usegmt=True)}, now=when.timestamp() - 10) == 10.0
    )
    assert server_delay({"retry-after": "soon"}) is None
    assert server_delay({}) is None


def test_server_delay_is_honoured_within_the_bound_and_refused_above_it() -> None:
    policy = RetryPolicy(max_server_delay=5.0)

    assert policy.delay(0, httpx.Headers({"Retry-After": "4"})) == 4.0
    assert policy.delay(0, httpx.Headers({"Retry-After": "6"})) is None


@pytest.mark.parametrize(
    ("status", "code", "replay", "expected"),
    [
        (500, None, Replay.SAFE, True),
        (503, None, Replay.STATE_CHANGE, True),
        (429, "rate_limit_exceeded", Replay.SAFE, True),
        (429, "daily_rate_limit_exceeded", Replay.SAFE, False),
        (429, "daily_rate_limit_exceeded", Replay.REFUSED_ONLY, False),
        (409, None, Replay.STATE_CHANGE, False),
        (400, None, Replay.STATE_CHANGE, False),
        (404, None, Replay.SAFE, False),
        (500, None, Replay.UNSENT_ONLY, False),
        (429, None, Replay.UNSENT_ONLY, False),
        (429, None, Replay.REFUSED_ONLY, True),
        (500, None, Replay.REFUSED_ONLY, False),
    ],
)
def test_which_statuses_are_retried(status: int, code: str | None, replay: Replay, expected: bool) -> None:
    assert retryable_status(status, code, replay) is expected


def test_create_is_retried_only_when_the_request_never_left() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/fine_tuning/jobs")
    never_left = httpx.ConnectError("refused", request=request)
    maybe_arrived = httpx.ReadTimeout("slow", request=request)

    assert retryable_exception(never_left, Replay.UNSENT_ONLY)
    assert not retryable_exception(maybe_arrived, Replay.UNSENT_ONLY)
    assert retryable_exception(maybe_arrived, Replay.SAFE)
    assert retryable_exception(maybe_arrived, Replay.STATE_CHANGE)
