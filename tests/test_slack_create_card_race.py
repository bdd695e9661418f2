"""A job created from Slack gets exactly one card, even when its status changes while the card is posted.

The card is posted slowly (Slack latency); meanwhile someone's `status` records the job's first status
change. The notifier must not post a card of its own for the job (it would be a second one); the thread
notes go under the one card the create posted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.notify.thread_lookup import CARD_EVENT
from bot.sandbox.standin.models import StoredMessage
from tests.support.background import AppRig, note_transition
from tests.support.runtime import CREATE_ARGS

T = TypeVar("T")
CARD_POST_LATENCY_MS = 1500


def cards(messages: list[StoredMessage], job_id: str) -> list[StoredMessage]:
    return [
        m
        for m in messages
        if m.thread_ts is None
        and (m.metadata or {}).get("event_type") == CARD_EVENT
        and (m.metadata or {}).get("event_payload", {}).get("job_id") == job_id
    ]


async def test_a_status_change_while_the_card_is_posted_does_not_make_a_second_card(app_rig: AppRig) -> None:
    bot = app_rig.bot
    slack = app_rig.slack
    slack.set_latency(CARD_POST_LATENCY_MS, method="chat.postMessage")
    sent = await slack.sender.slash(f"create {CREATE_ARGS} suffix=race", user="U_ALICE", channel="C_ML")
    assert sent.status == 200

    async def created() -> str | None:
        page = await bot.services.api.list_jobs(limit=1)
        if not page.data or await bot.store.get_job(page.data[0].id) is None:
            return None
        return page.data[0].id

    # The job is tracked; its card is still on its way to Slack.
    job_id = await eventually(created)
    await bot.control.advance(11)  # validating_files → queued
    status = await slack.sender.slash(f"status {job_id}", user="U_BOB", channel="C_ML")
    assert "Queued" in await bot.answer_text(status)

    answer = await bot.answer_text(sent, timeout=15)
    assert job_id in answer and "Started" in answer
    slack.set_latency(0, method="chat.postMessage")

    await bot.control.advance(25)  # queued → running: a note in the card's thread
    card = (await slack.wait_for(lambda: cards(slack.messages("C_ML"), job_id), timeout=10))[0]
    notes = await slack.wait_for(
        lambda: [m for m in slack.thread("C_ML", card.ts) if note_transition(m) is not None], timeout=10
    )
    assert any(str(note_transition(n)).endswith(":running") for n in notes)
    # Both status changes have been recorded and handled by now: still the one card.
    assert len(cards(slack.messages("C_ML"), job_id)) == 1
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status == "running"
    watch = await bot.store.get_watch(job_id, "C_ML")
    assert watch is not None and watch.is_owner and watch.card_ts == card.ts


async def eventually(predicate: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    deadline = time.monotonic() + within
    while (value := await predicate()) is None:
        assert time.monotonic() < deadline, "not seen in time"
        await asyncio.sleep(0.02)
    return value
