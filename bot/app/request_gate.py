"""The gate in front of Bolt: a request is verified before anything else can read it.

Bolt's own verifier raises on a timestamp that is not a number, and Bolt parses the body (and may answer a
`response_url` it names) before our listeners run. So every request to `/slack/events` passes here first:
a missing, malformed, stale or wrong signature is a 401; a signed body that is not a Slack payload is a 400;
the same signed body sent again inside the signature window (not a Slack retry) is answered once.
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from bot.app.payload_shapes import SlackPayload, fits

# Slack refuses requests older than five minutes; so do we, and a replay is remembered that long.
SIGNATURE_WINDOW_SECONDS = 300
MAX_REMEMBERED_SIGNATURES = 50_000
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Verdict:
    """What the gate decided: `status` None lets the request through to Bolt."""

    status: int | None
    reason: str = ""

    @property
    def passes(self) -> bool:
        return self.status is None


PASS = Verdict(None)


class RequestGate:
    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check(self, body: bytes, headers: Mapping[str, str]) -> Verdict:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return Verdict(401, "a missing or malformed signature")
        if abs(self._clock() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return Verdict(401, "a stale timestamp")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Verdict(401, "a body that is not UTF-8")
        if not self._verifier.is_valid(text, timestamp, signature):
            return Verdict(401, "a wrong signature")
        if not is_slack_payload(text, headers.get("Content-Type", "")):
            return Verdict(400, "a body that is not a Slack payload")
        if "X-Slack-Retry-Num" not in headers and self._replayed(signature):
            return Verdict(200, "the same signed body sent again")
        return PASS

    def _replayed(self, signature: str) -> bool:
        now = self._clock()
        while self._seen and (
            next(iter(self._seen.values())) < now - SIGNATURE_WINDOW_SECONDS
            or len(self._seen) > MAX_REMEMBERED_SIGNATURES
        ):
            self._seen.popitem(last=False)
        if signature in self._seen:
            return True
        self._seen[signature] = now
        return False


def is_slack_payload(text: str, content_type: str) -> bool:
    """An Events API JSON body, a slash command form, or a form whose `payload` is an interactive one, each
    shaped as Slack shapes them. The body is read the way Bolt will read it: JSON when it says so or looks
    so, otherwise a form, whose `payload` field (if the text mentions one) holds the JSON."""
    if content_type == "application/json" or text.startswith("{"):
        return fits(SlackPayload, _json(text))
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return payload is not None and fits(SlackPayload, _json(payload))
    return bool(parse_qsl(text, keep_blank_values=True))


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
