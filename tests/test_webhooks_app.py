"""Fine-tuning webhooks through the real app: the bot (a `Runtime` with its watcher and notifier), the
emulator sending signed job-end events, the Slack stand-in.

The poll interval is 10 minutes, so a job's end told within a test's few seconds was told by its webhook.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from standardwebhooks import Webhook

from bot.app.webhooks import WEBHOOKS_PATH
from bot.sandbox.standin.models import StoredMessage
from bot.views.actions import ACTION_REFRESH
from tests.support.background import note_transition
from tests.support.runtime import BotRig, StartBot

CHANNEL = "C_ML"
TEN_MINUTES = 600.0
SECRET = "whsec_" + base64.b64encode(b"tuneops-webhook-test-key-1").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"tuneops-webhook-test-key-0").decode()
STRANGER_SECRET = "whsec_" + base64.b64encode(b"someone-else-entirely").decode()
QUICK_RETRIES = [0.05, 0.1, 0.2]


@dataclass(frozen=True)
class Sent:
    status: int
    body: dict[str, Any]


async def post(bot: BotRig, body: bytes, headers: dict[str, str]) -> Sent:
    async with (
        aiohttp.ClientSession() as http,
        http.post(bot.runtime.url + WEBHOOKS_PATH, data=body, headers=headers) as answer,
    ):
        return Sent(answer.status, await answer.json())


def event(job_id: str, kind: str = "fine_tuning.job.succeeded") -> bytes:
    payload = {
        "id": "evt_test",
        "object": "event",
        "type": kind,
        "created_at": int(time.time()),
        "data": {"id": job_id},
    }
    return json.dumps(payload).encode()


def signed(body: bytes, secret: str = SECRET, *, webhook_id: str = "msg_1", age: float = 0) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with `secret`, stamped `age` seconds ago."""
    at = time.time() - age
    signature = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(at, tz=UTC), body.decode())
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at)),
        "webhook-signature": signature,
    }


def ends_told(bot: BotRig, card: StoredMessage) -> list[str]:
    """The notes in the card's thread that tell the job ended."""
    transitions = (note_transition(m) for m in bot.slack.thread(CHANNEL, card.ts))
    return [t for t in transitions if t and t.endswith((":succeeded", ":failed", ":cancelled"))]


@pytest.fixture
async def webhook_bot(start_bot: StartBot) -> BotRig:
    """The bot polling every 10 minutes, with the webhook secret; the emulator does not send yet."""
    return await start_bot(background=True, TUNEOPS_POLL_INTERVAL=TEN_MINUTES, TUNEOPS_WEBHOOK_SECRET=SECRET)


async def emulator_sends_to(bot: BotRig, secret: str = SECRET) -> None:
    await bot.control.set_webhook(bot.runtime.url + WEBHOOKS_PATH, secret, retry_delays=QUICK_RETRIES)


async def settled(bot: BotRig) -> None:
    """Wait until nothing is left to do: no job due for a read, no note waiting to be sent."""
    deadline = time.monotonic() + 10
    while True:
        now = time.time()
        due = await bot.store.due_jobs(now=now, limit=10)
        pending = (await bot.store.outbox_stats(now=now)).pending
        if not due and not pending:
            return
        assert time.monotonic() < deadline, f"still busy: {len(due)} due, {pending} notes pending"
        await asyncio.sleep(0.02)


async def next_poll_in(bot: BotRig, job_id: str) -> float:
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None
    return tracked.next_poll_at - time.time()


async def test_a_success_is_told_by_its_webhook_while_the_next_poll_is_minutes_away(
    webhook_bot: BotRig,
) -> None:
    bot = webhook_bot
    await emulator_sends_to(bot)
    job_id, card = await bot.create_job(channel=CHANNEL)
    assert await next_poll_in(bot, job_id) > TEN_MINUTES / 2

    await bot.control.set_job(job_id, status="succeeded")

    told = await bot.slack.wait_for(lambda: ends_told(bot, card))
    assert [t.partition(":")[2] for t in told] == ["succeeded"]
    deliveries = await bot.control.webhook_deliveries()
    assert [(d["type"], d["job_id"], d["delivered"]) for d in deliveries] == [
        ("fine_tuning.job.succeeded", job_id, True)
    ]
    # The card was redrawn as finished too: the same path as a poll.
    await bot.slack.wait_for(lambda: "succeeded" in str(bot.slack.message(CHANNEL, card.ts)).lower())


async def test_a_failure_and_a_cancel_are_told_by_their_webhooks(webhook_bot: BotRig) -> None:
    bot = webhook_bot
    await emulator_sends_to(bot)
    failing, failing_card = await bot.create_job(channel=CHANNEL, extra="suffix=one")
    cancelled, cancelled_card = await bot.create_job(channel=CHANNEL, extra="suffix=two")

    await bot.control.set_job(failing, status="failed", error={"code": "server_error", "message": "boom"})
    await bot.services.api.cancel_job(cancelled)  # cancelled elsewhere (the dashboard, say)

    assert [t.partition(":")[2] for t in await bot.slack.wait_for(lambda: ends_told(bot, failing_card))] == [
        "failed"
    ]
    assert [
        t.partition(":")[2] for t in await bot.slack.wait_for(lambda: ends_told(bot, cancelled_card))
    ] == ["cancelled"]


async def test_unsigned_forged_and_stale_deliveries_change_nothing(webhook_bot: BotRig) -> None:
    bot = webhook_bot
    job_id, card = await bot.create_job(channel=CHANNEL)
    await bot.control.set_job(job_id, status="succeeded")  # true, but only a signed delivery may say so
    body = event(job_id)

    refused = [
        await post(bot, body, {"content-type": "application/json"}),
        await post(bot, body, signed(body, STRANGER_SECRET, webhook_id="msg_forged")),
        await post(bot, body, signed(body, webhook_id="msg_stale", age=6 * 60)),
        await post(bot, body, signed(body, webhook_id="msg_future", age=-6 * 60)),
        await post(bot, event(job_id, "fine_tuning.job.failed"), signed(body, webhook_id="msg_swapped")),
        await post(bot, body, {**signed(body, webhook_id="msg_bad"), "webhook-signature": "v1"}),
        await post(bot, body, {**signed(body, webhook_id="msg_time"), "webhook-timestamp": "soon"}),
    ]

    assert [r.status for r in refused] == [400, 401, 401, 401, 401, 400, 400]
    assert all("error" in r.body for r in refused)
    assert "stale" in refused[2].body["error"] and "forged" in refused[1].body["error"]
    # No effect: the job is not made due (its next poll is still minutes away) and nothing is told.
    assert await next_poll_in(bot, job_id) > TEN_MINUTES / 2
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status != "succeeded"
    assert ends_told(bot, card) == []

    # The same event, signed properly, is taken.
    accepted = await post(bot, body, signed(body, webhook_id="msg_good"))
    assert accepted.status == 200
    assert [t.partition(":")[2] for t in await bot.slack.wait_for(lambda: ends_told(bot, card))] == [
        "succeeded"
    ]


async def test_a_replayed_delivery_is_taken_once(webhook_bot: BotRig) -> None:
    bot = webhook_bot
    job_id, card = await bot.create_job(channel=CHANNEL)
    await bot.control.set_job(job_id, status="running", step=3)
    # An early (or lying) delivery: the bot reads the job rather than trusting the body.
    body = event(job_id)
    headers = signed(body, webhook_id="msg_early")
    first = await post(bot, body, headers)
    assert first.status == 200
    running = await bot.slack.wait_for(
        lambda: [t for t in (note_transition(m) for m in bot.slack.thread(CHANNEL, card.ts)) if t]
    )
    assert [t.partition(":")[2] for t in running] == ["running"]
    await settled(bot)
    assert await next_poll_in(bot, job_id) > 60  # read, and its next poll is minutes away

    again = await post(bot, body, headers)  # byte for byte, still within the tolerance

    assert again.status == 200  # acknowledged, so the sender stops retrying...
    assert await next_poll_in(bot, job_id) > 60  # ...but the job was not made due again
    assert ends_told(bot, card) == []


async def test_a_webhook_and_a_poll_of_the_same_end_give_one_note(webhook_bot: BotRig) -> None:
    bot = webhook_bot
    await emulator_sends_to(bot)
    job_id, card = await bot.create_job(channel=CHANNEL)

    # The end, its webhook and a poll all at once.
    await bot.control.set_job(job_id, status="succeeded")
    await bot.store.schedule_poll(job_id, next_poll_at=0)
    bot.runtime.wake_watcher()
    await bot.slack.wait_for(lambda: ends_told(bot, card))
    await settled(bot)
    # Then a person's Refresh reads the same end, and the sender delivers the event again under a new
    # delivery id (at least once, as the services do).
    refreshed = await bot.slack.sender.click(card, ACTION_REFRESH, user="U_ALICE")
    assert refreshed.status == 200
    entries = await bot.audit(job_id, 2)  # the create, then the refresh (audited once it is done)
    assert [e.action for e in entries][-1] == "refresh"
    body = event(job_id)
    assert (await post(bot, body, signed(body, webhook_id="msg_retry"))).status == 200
    await settled(bot)

    assert [t.partition(":")[2] for t in ends_told(bot, card)] == ["succeeded"]
    assert len(await bot.control.webhook_deliveries()) == 1


async def test_a_poll_first_then_the_webhook_give_one_note(start_bot: StartBot) -> None:
    # Polling quickly this time: the poll sees the end before the (slow) delivery comes.
    bot = await start_bot(background=True, TUNEOPS_POLL_INTERVAL=0.2, TUNEOPS_WEBHOOK_SECRET=SECRET)
    job_id, card = await bot.create_job(channel=CHANNEL)
    await bot.control.set_job(job_id, status="succeeded")
    await bot.slack.wait_for(lambda: ends_told(bot, card))

    body = event(job_id)
    late = await post(bot, body, signed(body, webhook_id="msg_late"))

    assert late.status == 200
    await settled(bot)
    assert [t.partition(":")[2] for t in ends_told(bot, card)] == ["succeeded"]


async def test_rotation_accepts_the_old_and_the_new_secret_and_nothing_else(start_bot: StartBot) -> None:
    bot = await start_bot(
        background=True,
        TUNEOPS_POLL_INTERVAL=TEN_MINUTES,
        TUNEOPS_WEBHOOK_SECRET=f"{SECRET}, {OLD_SECRET}",
    )
    old_job, old_card = await bot.create_job(channel=CHANNEL, extra="suffix=old")
    new_job, new_card = await bot.create_job(channel=CHANNEL, extra="suffix=new")
    other_job, other_card = await bot.create_job(channel=CHANNEL, extra="suffix=other")

    await emulator_sends_to(bot, OLD_SECRET)  # the sender still signs with the old secret
    await bot.control.set_job(old_job, status="succeeded")
    await bot.slack.wait_for(lambda: ends_told(bot, old_card))
    await emulator_sends_to(bot, SECRET)  # rotated on the sender's side
    await bot.control.set_job(new_job, status="succeeded")
    await bot.slack.wait_for(lambda: ends_told(bot, new_card))

    await bot.control.clear_webhook()
    await bot.control.set_job(other_job, status="succeeded")
    body = event(other_job)
    forged = await post(bot, body, signed(body, STRANGER_SECRET, webhook_id="msg_stranger"))
    assert forged.status == 401
    assert await next_poll_in(bot, other_job) > TEN_MINUTES / 2
    assert ends_told(bot, other_card) == []
    deliveries = await bot.control.webhook_deliveries()
    assert [d["delivered"] for d in deliveries] == [True, True]


async def test_an_unknown_job_or_event_type_is_acknowledged_and_ignored(webhook_bot: BotRig) -> None:
    bot = webhook_bot
    job_id, card = await bot.create_job(channel=CHANNEL)
    await bot.control.set_job(job_id, status="succeeded")
    stranger = event("ftjob-nobody-follows")
    other_type = json.dumps(
        {"id": "evt_b", "object": "event", "type": "batch.completed", "data": {"id": job_id}}
    )

    answers = [
        await post(bot, stranger, signed(stranger, webhook_id="msg_stranger_job")),
        await post(bot, other_type.encode(), signed(other_type.encode(), webhook_id="msg_batch")),
    ]

    assert [a.status for a in answers] == [200, 200]
    assert await next_poll_in(bot, job_id) > TEN_MINUTES / 2
    assert ends_told(bot, card) == []
    # A signed body that is no event at all is a bad request.
    junk = b"[1, 2, 3]"
    assert (await post(bot, junk, signed(junk, webhook_id="msg_junk"))).status == 400


async def test_the_endpoint_is_served_without_the_slack_http_endpoint_as_in_socket_mode(
    start_bot: StartBot,
) -> None:
    # Socket Mode needs no signing secret: /slack/events is not served, the webhooks still are.
    bot = await start_bot(
        background=True,
        TUNEOPS_POLL_INTERVAL=TEN_MINUTES,
        TUNEOPS_WEBHOOK_SECRET=SECRET,
        SLACK_SIGNING_SECRET="",
        SLACK_APP_TOKEN="xapp-1-test",
    )
    async with aiohttp.ClientSession() as http, http.post(bot.runtime.events_url, data=b"{}") as slack:
        assert slack.status == 404
    body = event("ftjob-unknown")
    assert (await post(bot, body, signed(body, webhook_id="msg_socket"))).status == 200
    assert (await post(bot, body, signed(body, STRANGER_SECRET, webhook_id="msg_x"))).status == 401


async def test_without_a_secret_the_endpoint_is_not_served(bot: BotRig) -> None:
    body = event("ftjob-any")
    async with (
        aiohttp.ClientSession() as http,
        http.post(bot.runtime.url + WEBHOOKS_PATH, data=body, headers=signed(body)) as answer,
    ):
        assert answer.status == 404
