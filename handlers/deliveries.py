"""Global middleware: a delivery Slack retries (`x-slack-retry-num`) after we handled it is acked, not redone.

Neither Slack nor Bolt de-duplicates: a slow ack makes Slack send the same request again. Each delivery is keyed by its `event_id`
(Events API) or a hash of its raw body (commands, clicks, form submissions: the body carries a unique
trigger id / action ts). First deliveries are remembered in memory at once and in storage after the ack
(so a retry that arrives after a restart is still recognised) — the ack never waits for a disk write. A
retry is checked against memory, then storage.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.services import Services
from handlers.followups import FollowUps

log = logging.getLogger(__name__)

# Slack retries for about 5 minutes (immediately, ~1 min, ~5 min); keep keys well past that.
DELIVERY_TTL_SECONDS = 15 * 60
MAX_REMEMBERED_IN_MEMORY = 10_000


def delivery_key(body: dict[str, Any], raw_body: str) -> str:
    event_id = body.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"event:{event_id}"
    return "body:" + hashlib.sha256(raw_body.encode("utf-8")).hexdigest()


class RecentDeliveries:
    """Keys seen lately in this process, oldest dropped first."""

    def __init__(self, ttl: float = DELIVERY_TTL_SECONDS, capacity: int = MAX_REMEMBERED_IN_MEMORY) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def add(self, key: str, now: float) -> bool:
        """True when `key` is new (or expired)."""
        while self._expiry and (
            len(self._expiry) >= self._capacity or next(iter(self._expiry.values())) <= now
        ):
            self._expiry.popitem(last=False)
        if key in self._expiry and self._expiry[key] > now:
            return False
        self._expiry[key] = now + self._ttl
        self._expiry.move_to_end(key)
        return True


def register(app: AsyncApp, services: Services, followups: FollowUps) -> None:
    recent = RecentDeliveries()

    async def remember(key: str) -> None:
        await services.store.remember_delivery(key, now=services.clock(), ttl=DELIVERY_TTL_SECONDS)

    @app.middleware
    async def skip_handled_retries(
        request: AsyncBoltRequest, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = delivery_key(body, request.raw_body)
        retry = _first(request.headers.get("x-slack-retry-num"))
        first_here = recent.add(key, time.time())
        if retry is None:
            if first_here:
                followups.start(remember(key), name="remember-delivery")
        elif not first_here or not await services.store.remember_delivery(
            key, now=services.clock(), ttl=DELIVERY_TTL_SECONDS
        ):
            reason = _first(request.headers.get("x-slack-retry-reason")) or "unknown"
            log.info("ignoring retry %s of a delivery already handled (reason: %s)", retry, reason)
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        # Bolt's own middleware returns None after next(): the listener's ack() then makes the response.
        await next()
        return None


def _first(values: Sequence[str] | None) -> str | None:
    return values[0] if values else None
