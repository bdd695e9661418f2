"""`POST /webhooks/fine-tuning`: Standard Webhooks deliveries from OpenAI or Azure AI Foundry.

Served on PORT in both Slack modes whenever TUNEOPS_WEBHOOK_SECRET is set. Each delivery is verified by
the `standardwebhooks` package against every configured secret (several during a rotation): its
`webhook-id`, `webhook-timestamp` (within 5 minutes) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`).
Unsigned or malformed is 400, stale or forged 401, both with no effect. A verified delivery is answered at
once: the job is only made due here, and the watcher reads it (`bot/watch/webhook_reads.py`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from bot.ops.metrics import WEBHOOK_DELIVERIES
from bot.watch.webhook_reads import NotAnEvent, WebhookEvent, WebhookReads
from storage.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

WEBHOOKS_PATH = "/webhooks/fine-tuning"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    status: int  # 200 when verified
    reason: str

    @property
    def passes(self) -> bool:
        return self.status == 200


class WebhookVerifier:
    """Checks a delivery against each signing secret in turn; any one verifying it is enough."""

    def __init__(self, secrets: list[str]) -> None:
        if not secrets:
            raise ValueError("a webhook verifier needs at least one secret")
        self._webhooks = [Webhook(secret) for secret in secrets]

    def check(self, body: bytes, headers: Mapping[str, str]) -> Verdict:
        lowered = {name.lower(): value for name, value in headers.items()}
        missing = [name for name in SIGNATURE_HEADERS if not lowered.get(name)]
        if missing:
            return Verdict(400, "unsigned: no " + ", ".join(missing))
        reasons: list[str] = []
        for webhook in self._webhooks:
            try:
                webhook.verify(body, lowered, json_parse=False)
            except WebhookVerificationError as error:
                reasons.append(str(error))
            except ValueError:
                # The library splits and decodes what it was sent: a signature list or body it cannot
                # read (no comma, bad base64, not UTF-8) is a malformed delivery, not a crash.
                return Verdict(400, "malformed signature headers or body")
            else:
                return Verdict(200, "verified")
        reason = reasons[-1] if reasons else "no matching signature"
        if "Invalid Signature Headers" in reason:
            return Verdict(400, "the timestamp is not a number")
        if "timestamp" in reason:
            return Verdict(401, "stale: " + reason.lower())
        return Verdict(401, "forged: no signature matches any configured secret")


VERIFIER = web.AppKey("tuneops_webhook_verifier", WebhookVerifier)
READS = web.AppKey("tuneops_webhook_reads", WebhookReads)


def _refused(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def handle_webhook(request: web.Request) -> web.Response:
    body = await request.read()
    verdict = request.app[VERIFIER].check(body, request.headers)
    if not verdict.passes:
        WEBHOOK_DELIVERIES.labels(outcome="refused").inc()
        log.warning("refused a delivery to %s: %s", WEBHOOKS_PATH, verdict.reason)
        return _refused(verdict.status, verdict.reason)
    try:
        event = WebhookEvent.parse(json.loads(body))
    except (ValueError, NotAnEvent) as error:  # JSONDecodeError is a ValueError
        WEBHOOK_DELIVERIES.labels(outcome="not_an_event").inc()
        log.warning("refused a signed delivery to %s that is not an event: %s", WEBHOOKS_PATH, error)
        return _refused(400, "the body is not a webhook event")
    try:
        taken = await request.app[READS].take(request.headers["webhook-id"], event)
    except DatabaseUnavailable as error:
        # Not taken: a 5xx makes the sender deliver it again later, and polling covers it meanwhile.
        WEBHOOK_DELIVERIES.labels(outcome="unavailable").inc()
        log.warning("could not record a webhook delivery (%s); the sender will retry", error)
        return _refused(503, "the database is unavailable; deliver again later")
    WEBHOOK_DELIVERIES.labels(outcome=taken.value if taken is not None else "ignored").inc()
    return web.json_response({"ok": True})


def add_webhook_route(web_app: web.Application, runtime: Runtime) -> None:
    """Serve `POST /webhooks/fine-tuning` from `web_app` when webhook secrets are configured."""
    secrets = runtime.services.settings.webhook_secrets
    if not secrets:
        return
    web_app[VERIFIER] = WebhookVerifier(secrets)
    web_app[READS] = WebhookReads(runtime.services, wake=runtime.wake_watcher)
    web_app.router.add_post(WEBHOOKS_PATH, handle_webhook)
    log.info("fine-tuning webhooks accepted at %s (%d signing secret(s))", WEBHOOKS_PATH, len(secrets))
