"""What a verified webhook delivery from the fine-tuning API makes TuneOps do: read the job now.

OpenAI and Azure send `fine_tuning.job.succeeded|failed|cancelled` with only the job's id. The delivery
is not trusted for the job's state: the job is made due and the watcher reads it like any poll (status,
last metrics, results), so a webhook and a poll of the same change meet in storage's rules and give one
note. Deliveries come at least once and in any order: each id is taken once. Polling carries on as the
reconciler for deliveries that never come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.jobs.records import WebhookTake
from bot.services import Services

log = logging.getLogger(__name__)

JOB_EVENT_TYPES = frozenset(
    {"fine_tuning.job.succeeded", "fine_tuning.job.failed", "fine_tuning.job.cancelled"}
)
# Senders retry a failed delivery for up to 72 hours: its id is remembered a little longer.
KEEP_DELIVERY_IDS_FOR = 4 * 86400.0


class NotAnEvent(ValueError):
    """A signed body that is not an event object at all."""


@dataclass(frozen=True)
class WebhookEvent:
    type: str
    job_id: str | None  # None for an event type that names no fine-tuning job

    @classmethod
    def parse(cls, body: Any) -> WebhookEvent:
        """The event in a verified JSON body; `NotAnEvent` when it has no `type` (or a job event no id)."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise NotAnEvent("the body is not an event object with a type")
        kind = body["type"]
        if kind not in JOB_EVENT_TYPES:
            return cls(type=kind, job_id=None)
        data = body.get("data")
        job_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise NotAnEvent(f"a {kind} event without data.id")
        return cls(type=kind, job_id=job_id)


class WebhookReads:
    """Turns deliveries into reads: `take` remembers the delivery and makes its job due, then `wake`s the
    watcher (None when no watcher runs in this process: the job is read at its next cycle elsewhere)."""

    def __init__(self, services: Services, *, wake: Callable[[], None] | None) -> None:
        self._services = services
        self._wake = wake

    async def take(self, webhook_id: str, event: WebhookEvent) -> WebhookTake | None:
        """What the delivery did; None for an event type TuneOps does not act on (acknowledged, ignored)."""
        if event.job_id is None:
            log.info("ignored a webhook of type %s", event.type[:80])
            return None
        taken = await self._services.store.take_webhook(
            webhook_id, job_id=event.job_id, now=self._services.clock(), keep_for=KEEP_DELIVERY_IDS_FOR
        )
        if taken is WebhookTake.READ_NOW:
            log.info("webhook %s: reading %s now", event.type, event.job_id)
            if self._wake is not None:
                self._wake()
        elif taken is WebhookTake.UNKNOWN_JOB:
            log.info("webhook %s about %s, a job no channel follows: ignored", event.type, event.job_id[:80])
        else:
            log.debug("webhook %s about %s: %s", event.type, event.job_id, taken.value)
        return taken
