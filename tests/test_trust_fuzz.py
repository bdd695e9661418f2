"""5,000 random requests at the running bot: forms and JSON, signed and unsigned, with random headers.

Unsigned ones (a junk, missing or malformed signature or timestamp) must cause no outbound call at all;
signed ones must each get an answer that is not a server error; nothing may log a traceback. The payloads
are built from the shapes Slack sends (slash commands, button clicks, form submissions, events) with
random values, odd numbers and junk in every field, from a fixed seed so a failure can be replayed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.views.actions import ACTION_CANCEL, ACTION_NEXT_PAGE, ACTION_PAUSE, ACTION_REFRESH, ACTION_RESUME
from tests.support.runtime import BotRig

REQUESTS_EACH = 2_500
SENDERS = 8
SEED = 20261202

ODD_VALUES: list[Any] = [
    "",
    "ftjob-abc",
    "ftjob-" + "x" * 300,
    "<!channel>",
    "<@U_BOB>",
    "sk-proj-abcdefghijklmnop",
    10**30,
    -(10**30),
    2**63,
    -1,
    0,
    1.5,
    float("1e308"),
    None,
    True,
    [],
    {},
    [1, 2],
    {"a": 1},
    "🚀" * 10,
    "\u0000",
    "'; DROP TABLE jobs; --",
]


def _junk(rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return rng.choice(ODD_VALUES)
    return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40)))


def _cursor(rng: random.Random) -> str:
    fields = {
        "scope": rng.choice(["channel", "active", "all", "nope"]),
        "mine": rng.choice([True, False, "yes"]),
        "page": rng.choice([1, 2, 10**30, -5, "x"]),
        "offset": rng.choice([0, 20, 10**30, 2**63, -1, 1.5]),
        "after": rng.choice([None, "ftjob-abc", 7]),
    }
    return json.dumps(fields) if rng.random() < 0.8 else _junk_str(rng)


def _junk_str(rng: random.Random) -> str:
    value = _junk(rng)
    return value if isinstance(value, str) else json.dumps(value)


def _slash(bot: BotRig, rng: random.Random) -> tuple[bytes, str]:
    ws = bot.slack.workspace
    words = ["help", "list", "status", "pause", "cancel", "events", "watch", "create", "all", "mine"]
    text = " ".join(rng.choice([*words, _junk_str(rng)]) for _ in range(rng.randint(0, 4)))
    fields: dict[str, Any] = {
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "channel_id": rng.choice(["C_ML", "C_TRAINING", _junk_str(rng)]),
        "user_id": rng.choice(["U_ALICE", "U_BOB", _junk_str(rng)]),
        "command": rng.choice(["/finetune", "/finetune", _junk_str(rng)]),
        "text": text,
        "response_url": bot.slack.response_url("fuzz"),
        "trigger_id": _junk_str(rng),
    }
    for key in rng.sample(list(fields), rng.randint(0, 2)):
        fields[key] = _junk_str(rng)
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def _click(bot: BotRig, rng: random.Random) -> tuple[bytes, str]:
    ws = bot.slack.workspace
    action_id = rng.choice(
        [ACTION_PAUSE, ACTION_RESUME, ACTION_CANCEL, ACTION_REFRESH, ACTION_NEXT_PAGE, "x"]
    )
    value = _cursor(rng) if action_id == ACTION_NEXT_PAGE else rng.choice(["ftjob-abc", _junk(rng)])
    payload: dict[str, Any] = {
        "type": rng.choice(["block_actions", "block_actions", "view_submission", "shortcut", _junk(rng)]),
        "team": {"id": ws.team_id},
        "api_app_id": ws.app_id,
        "user": {"id": rng.choice(["U_ALICE", _junk(rng)])},
        "channel": {"id": rng.choice(["C_ML", _junk(rng)])},
        "container": {"type": "message", "message_ts": rng.choice(["1.000001", _junk(rng)])},
        "response_url": bot.slack.response_url("fuzz"),
        "trigger_id": _junk_str(rng),
        "actions": rng.choice(
            [[{"action_id": action_id, "block_id": "b", "value": value, "type": "button"}], [], _junk(rng)]
        ),
        "view": rng.choice([{"callback_id": "create_job", "state": {"values": _junk(rng)}}, _junk(rng)]),
    }
    for key in rng.sample(list(payload), rng.randint(0, 2)):
        payload[key] = _junk(rng)
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def _event(bot: BotRig, rng: random.Random) -> tuple[bytes, str]:
    ws = bot.slack.workspace
    body = {
        "type": rng.choice(["event_callback", "url_verification", _junk(rng)]),
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event_id": _junk_str(rng),
        "challenge": _junk(rng),
        "event": rng.choice([{"type": "app_mention", "text": _junk(rng)}, _junk(rng)]),
    }
    return json.dumps(body).encode(), "application/json"


def _junk_body(rng: random.Random) -> tuple[bytes, str]:
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
    return raw, rng.choice(["application/x-www-form-urlencoded", "application/json", "text/plain"])


def _request(bot: BotRig, rng: random.Random) -> tuple[bytes, str]:
    make = rng.choice([_slash, _click, _click, _event])
    return _junk_body(rng) if rng.random() < 0.1 else make(bot, rng)


def _unsigned_headers(rng: random.Random, body: bytes, bot: BotRig) -> dict[str, str]:
    now = int(time.time())
    choice = rng.randrange(5)
    if choice == 0:
        return {"X-Slack-Request-Timestamp": _printable(rng), "X-Slack-Signature": "v0=" + "0" * 64}
    if choice == 1:
        return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": _printable(rng)}
    if choice == 2:  # signed, but too long ago
        stale = now - rng.randint(301, 10**6)
        return {
            "X-Slack-Request-Timestamp": str(stale),
            "X-Slack-Signature": bot.slack.sender.signature(body, stale),
        }
    if choice == 3:  # a real signature of another body
        return {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": bot.slack.sender.signature(b"x", now),
        }
    return {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "", "X-Slack-Retry-Num": _printable(rng)}


def _printable(rng: random.Random) -> str:
    return "".join(
        rng.choice(string.ascii_letters + string.digits + "=-.") for _ in range(rng.randint(0, 70))
    )


def _traces(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.timeout(600)
async def test_random_requests_leave_no_trace_unsigned_and_are_answered_signed(
    bot: BotRig, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(SEED)
    requests = [_request(bot, rng) for _ in range(REQUESTS_EACH)]
    unsigned = [(body, kind, _unsigned_headers(rng, body, bot)) for body, kind in requests]
    bot.slack.reset_records()
    caplog.set_level(logging.WARNING)

    async def send_all(batch: list[tuple[bytes, str, dict[str, str] | None]]) -> list[int]:
        statuses: list[int] = []
        queue = list(reversed(batch))

        async def sender() -> None:
            while queue:
                body, kind, headers = queue.pop()
                if headers is None:
                    sent = await bot.slack.sender.signed_post(body, kind)
                else:
                    sent = await bot.slack.sender.signed_post(body, kind, headers=headers)
                statuses.append(sent.status)

        await asyncio.gather(*(sender() for _ in range(SENDERS)))
        return statuses

    statuses = await send_all([(b, k, h) for b, k, h in unsigned])
    assert set(statuses) <= {400, 401}, sorted(set(statuses))
    assert bot.slack.calls == [] and bot.slack.responses == []
    assert _traces(caplog) == []

    signed = [_request(bot, rng) for _ in range(REQUESTS_EACH)]
    statuses = await send_all([(b, k, None) for b, k in signed])
    assert len(statuses) == REQUESTS_EACH
    assert all(0 < status < 500 for status in statuses), sorted(set(statuses))
    # The work behind the acks finishes too, and a traceback there would count.
    await bot.runtime.followups.drain(timeout=120)
    assert _traces(caplog) == []
