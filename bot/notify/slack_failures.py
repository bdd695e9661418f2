"""What a failed Slack Web API call means for a delivery: wait, retry, fall back, give up, or check first.

`maybe_posted` matters for exactly-once: after a timeout, a dropped connection or a 5xx, Slack may have
posted the message before the answer was lost, so the next attempt must look in the thread before
posting again. A definite refusal (`ok: false` with an error code, a 429) posted nothing.

Reads are not posts: `chat:write.public` lets the bot post in a public channel it was never invited to,
but `conversations.history`/`.replies` answer `not_in_channel` there. A refused look-up only means the
notifier cannot check (`cannot_look`); it never makes a channel unreachable.

A permanent refusal (`SlackFailure.permanent`) is about one message, not the channel: retrying the same message
cannot help, so it is final for that message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# The bot cannot post there; retrying will not change that (until someone invites it back).
UNREACHABLE_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "channel_is_archived", "restricted_action"}
)
# Slack will never take this message as it is: the same message is refused however often it is sent.
# The sender falls back once to a minimal message (short plain text, no blocks), then gives it up.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "no_text",
        "invalid_attachments",
        "too_many_attachments",
        "invalid_metadata",
        "invalid_metadata_format",
        "metadata_too_large",
        "metadata_must_be_sent_from_app",
        "invalid_arguments",
    }
)
# The card (or its thread) is gone: post a new card.
MESSAGE_GONE_ERRORS = frozenset({"message_not_found", "thread_not_found", "cant_update_message"})


class FailureKind(Enum):
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"
    PERMANENT = "permanent"  # this message will never be taken: fall back once, then give it up
    MESSAGE_GONE = "message_gone"
    TRANSIENT = "transient"  # 5xx, timeouts, connection trouble
    REFUSED = "refused"  # any other ok:false answer


@dataclass(frozen=True)
class SlackFailure:
    kind: FailureKind
    error: str  # Slack's error code, or the exception's type: never the request (it holds the token)
    maybe_posted: bool
    retry_after: float | None = None
    # False when no answer came back at all (timeout, dropped connection): Slack may still be working
    # on the request, so a re-check should wait a little for it to land.
    answered: bool = True

    @property
    def permanent(self) -> bool:
        """True when Slack refused this very message for good (too long, bad blocks or metadata, …)."""
        return self.kind is FailureKind.PERMANENT


def classify(exc: BaseException) -> SlackFailure:
    if isinstance(exc, SlackApiError):
        return _from_api_error(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        # The connection was never made: the request did not leave.
        return SlackFailure(FailureKind.TRANSIENT, type(exc).__name__, maybe_posted=False, answered=False)
    return SlackFailure(FailureKind.TRANSIENT, type(exc).__name__, maybe_posted=True, answered=False)


def cannot_look(failure: SlackFailure) -> bool:
    """True when a read (a thread or history look-up) was refused outright: not a member, a missing scope,
    a channel the read cannot see. The caller posts without checking; a rate limit or a transient failure
    is retried like any other."""
    return failure.kind in (FailureKind.UNREACHABLE, FailureKind.REFUSED, FailureKind.PERMANENT)


def _from_api_error(exc: SlackApiError) -> SlackFailure:
    response: Any = exc.response
    status = int(getattr(response, "status_code", 0) or getattr(response, "status", 0) or 0)
    data = getattr(response, "data", None)
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    headers = getattr(response, "headers", None) or {}
    if status == 429 or error == "ratelimited":
        return SlackFailure(
            FailureKind.RATE_LIMITED, "ratelimited", maybe_posted=False, retry_after=_retry_after(headers)
        )
    if error in UNREACHABLE_ERRORS:
        return SlackFailure(FailureKind.UNREACHABLE, error, maybe_posted=False)
    if error in PERMANENT_ERRORS:
        return SlackFailure(FailureKind.PERMANENT, error, maybe_posted=False)
    if error in MESSAGE_GONE_ERRORS:
        return SlackFailure(FailureKind.MESSAGE_GONE, error, maybe_posted=False)
    if status >= 500 or error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
        return SlackFailure(FailureKind.TRANSIENT, error or f"http_{status}", maybe_posted=True)
    return SlackFailure(FailureKind.REFUSED, error or f"http_{status}", maybe_posted=False)


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


class DeliveryFailed(Exception):
    """A Slack call of the notifier failed; `failure` says what that means for the delivery."""

    def __init__(self, failure: SlackFailure) -> None:
        super().__init__(failure.error)
        self.failure = failure


async def look_before_posting(
    lookup: Awaitable[str | None], slots: asyncio.Semaphore, what: str
) -> str | None:
    """The ts `lookup` finds (a card in the channel, a reply in its thread), or None.

    A look-up Slack refuses (a public channel the bot was never invited to, a missing history scope) only
    means we cannot check: better a rare repeat than a message never sent, so it answers None and the
    caller posts. Any other failure is the delivery's, raised as `DeliveryFailed`."""
    try:
        async with slots:
            return await lookup
    except Exception as exc:
        failure = classify(exc)
        if not cannot_look(failure):
            raise DeliveryFailed(failure) from exc
        log.warning("cannot read %s (%s); posting without checking", what, failure.error)
        return None
