"""Webhooks from the emulator, as OpenAI and Azure send them: a signed event when a job ends.

Given a URL and a `whsec_…` secret, the emulator watches its jobs (every `scan_every` real seconds) and,
the first time one is seen succeeded, failed or cancelled (however it got there: trained to the end, a
cancel, a test setting it), POSTs `{"id": "evt_…", "object": "event", "type": "fine_tuning.job.<status>",
"created_at": …, "data": {"id": "ftjob-…"}}` signed the Standard Webhooks way (`webhook-id`,
`webhook-timestamp`, `webhook-signature`), re-signed on each attempt. Anything but a 2xx (a redirect
too) is tried again after each of `retry_delays` seconds, then given up. Every attempt is logged, with
the last headers and body sent, so a test can replay a delivery byte for byte.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from bot.sandbox.emulator.lifecycle import TERMINAL
from bot.sandbox.emulator.state import EmulatorState, JobRecord

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)  # real seconds; the services: up to 72 h
SEND_TIMEOUT = 5.0


def new_secret() -> str:
    """A fresh signing secret in the shape the dashboards hand out (`whsec_` + base64 of 24 bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookConfigError(ValueError):
    """An unusable webhook URL, secret or retry schedule."""


@dataclass
class Attempt:
    at: float  # unix time
    status: int | None  # None: no HTTP answer (refused, timed out)
    error: str | None = None


@dataclass
class Delivery:
    webhook_id: str
    event: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    delivered: bool = False
    given_up: bool = False
    # What the last attempt sent, for a byte-for-byte replay.
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "event": self.event,
            "type": self.event["type"],
            "job_id": self.event["data"]["id"],
            "attempts": [{"at": a.at, "status": a.status, "error": a.error} for a in self.attempts],
            "delivered": self.delivered,
            "given_up": self.given_up,
            "headers": self.headers,
            "body": self.body,
        }


class WebhookSender:
    def __init__(self, state: EmulatorState, *, scan_every: float = 0.05) -> None:
        self._state = state
        self._scan_every = scan_every
        self.url: str | None = None
        self._signer: Webhook | None = None
        self.retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
        self.deliveries: list[Delivery] = []
        # The job records whose end was announced (by identity: ids repeat after a reset).
        self._announced: dict[str, JobRecord] = {}
        self._scanner: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    @property
    def configured(self) -> bool:
        return self.url is not None and self._signer is not None

    def configure(self, url: str, secret: str, *, retry_delays: tuple[float, ...] | None = None) -> None:
        """Send to `url`, signed with `secret`, from now on. Jobs already finished are not announced."""
        if not url.startswith(("http://", "https://")):
            raise WebhookConfigError("the webhook URL must be http(s)")
        if not secret.startswith("whsec_"):
            raise WebhookConfigError("the webhook secret must look like whsec_ followed by base64")
        try:
            signer = Webhook(secret)
        except Exception as error:  # the library's own error for an empty key, binascii's for bad base64
            raise WebhookConfigError("the webhook secret must look like whsec_ followed by base64") from error
        if retry_delays is not None and any(delay < 0 for delay in retry_delays):
            raise WebhookConfigError("retry delays must be 0 or more")
        self.url, self._signer = url, signer
        if retry_delays is not None:
            self.retry_delays = tuple(retry_delays)
        for record in self._state.jobs.values():
            if self._state.view(record, with_events=False).status in TERMINAL:
                self._announced[record.id] = record

    def clear(self) -> None:
        self.url, self._signer = None, None
        self.retry_delays = DEFAULT_RETRY_DELAYS

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "retry_delays": list(self.retry_delays),
            "deliveries": [delivery.as_json() for delivery in self.deliveries],
        }

    # ---- the loop --------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._scanner is None:
            self._http = httpx.AsyncClient(timeout=SEND_TIMEOUT, follow_redirects=False)
            self._scanner = asyncio.create_task(self._scan_forever(), name="emulator-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._scanner, *self._sending) if t is not None]
        self._scanner = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._sending.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _scan_forever(self) -> None:
        while True:
            if self.configured:
                self.scan()
            await asyncio.sleep(self._scan_every)

    def scan(self) -> None:
        """Announce every job that ended since the last scan."""
        for record in list(self._state.jobs.values()):
            announced = self._announced.get(record.id) is record
            if announced and record.anchor.status in TERMINAL:
                continue  # the common case, without projecting the job
            status = self._state.view(record, with_events=False).status
            if status not in TERMINAL:
                if announced:
                    del self._announced[record.id]  # a test put it back to work: its next end is news
                continue
            if not announced:
                self._announced[record.id] = record
                self._send(record.id, status)

    def _send(self, job_id: str, status: str) -> None:
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "type": f"fine_tuning.job.{status}",
            "created_at": int(time.time()),
            "data": {"id": job_id},
        }
        delivery = Delivery(webhook_id="msg_" + secrets.token_hex(12), event=event)
        self.deliveries.append(delivery)
        task = asyncio.create_task(self._deliver(delivery), name=f"webhook-{job_id}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        body = json.dumps(delivery.event, separators=(",", ":"))
        for wait in (0.0, *self.retry_delays):
            if wait:
                await asyncio.sleep(wait)
            url, signer, http = self.url, self._signer, self._http
            if url is None or signer is None or http is None:
                delivery.given_up = True  # webhooks were turned off meanwhile
                return
            now = time.time()
            headers = {
                "content-type": "application/json",
                "webhook-id": delivery.webhook_id,
                "webhook-timestamp": str(int(now)),
                "webhook-signature": signer.sign(
                    delivery.webhook_id, datetime.fromtimestamp(now, tz=UTC), body
                ),
            }
            delivery.headers, delivery.body = headers, body
            try:
                response = await http.post(url, content=body.encode(), headers=headers)
            except httpx.HTTPError as error:
                delivery.attempts.append(Attempt(now, None, type(error).__name__))
                continue
            delivery.attempts.append(Attempt(now, response.status_code))
            if 200 <= response.status_code < 300:
                delivery.delivered = True
                return
        delivery.given_up = True
        log.info("gave up the webhook %s after %d attempts", delivery.webhook_id, len(delivery.attempts))
