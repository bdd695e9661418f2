"""A channel the bot cannot post to is not silenced for good: its notes wait, and go out once it can.

Through the real Bolt app over HTTP: `/finetune create` posts the card, the stand-in then refuses posts in
the channel (`not_in_channel`, `is_archived`); the bot is invited back with a real `member_joined_channel`
event, or the channel is simply fixed and the notifier's periodic try finds it so.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.app.background import Background
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.standin.events import invite_bot
from bot.sandbox.standin.models import ChannelState
from tests.support.background import FAST_POLL, AppRig, fast_background
from tests.support.runtime import StartBot

CHANNEL = "C_ML"
MakeAppRig = Callable[..., Awaitable[AppRig]]


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


@pytest.fixture
async def make_app_rig(start_bot: StartBot) -> AsyncIterator[MakeAppRig]:
    """The real app with a fast `Background` whose notifier takes `notifier_options`."""
    started: list[Background] = []

    async def build(*, admins: str = "", **notifier_options: Any) -> AppRig:
        bot = await start_bot(background=False, TUNEOPS_POLL_INTERVAL=FAST_POLL, TUNEOPS_ADMINS=admins)
        background = fast_background(bot.services, **notifier_options)
        started.append(background)
        await background.start()
        return AppRig(bot=bot, background=background)

    try:
        yield build
    finally:
        for background in started:
            await background.stop(timeout=2.0)


def _dms(rig: AppRig, user: str) -> list[str]:
    return [
        str(call.args.get("text"))
        for call in rig.slack.calls_to("chat.postMessage")
        if call.args.get("channel") == user
    ]


@pytest.mark.parametrize("state", ["not_in_channel", "archived"])
async def test_notes_wait_for_a_channel_the_bot_was_removed_from_and_go_out_when_it_is_invited_back(
    make_app_rig: MakeAppRig, state: ChannelState
) -> None:
    # The default tries come minutes apart: within the test, only the invitation brings the channel back.
    rig = await make_app_rig()
    control = rig.bot.control
    job_id, card = await rig.bot.create_job(channel=CHANNEL, extra="suffix=removed")
    rig.slack.set_channel_state(CHANNEL, state)

    await control.set_job(job_id, status="running")
    reason = await rig.slack.wait_for(lambda: _dms(rig, "U_ALICE"))
    assert "invite me" in reason[0] and f"<#{CHANNEL}>" in reason[0]
    await control.set_job(job_id, status="cancelled", step=2)
    await _until_outbox(rig, lambda stats: stats.pending == 2)
    assert rig.transitions(CHANNEL, card.ts) == []

    sent = await invite_bot(rig.slack, CHANNEL)
    assert sent.status == 200, sent
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["1:running", "2:cancelled"])
    # The card catches up too, and the creator was told only once.
    await rig.slack.wait_for(lambda: "ancel" in str(getattr(rig.slack.message(CHANNEL, card.ts), "text", "")))
    assert len(_dms(rig, "U_ALICE")) == 1
    assert await rig.bot.store.channel_unreachable(CHANNEL) is None
    stats = await rig.bot.store.outbox_stats(now=rig.bot.services.clock())
    assert stats.given_up == 0


async def test_an_unreachable_channel_is_tried_again_now_and_then_and_its_notes_then_go_out(
    make_app_rig: MakeAppRig,
) -> None:
    rig = await make_app_rig(unreachable_retry_base=0.2, unreachable_retry_cap=0.4)
    control = rig.bot.control
    job_id, card = await rig.bot.create_job(channel=CHANNEL, extra="suffix=archived")
    rig.slack.set_channel_state(CHANNEL, "archived")

    await control.set_job(job_id, status="running")
    await rig.slack.wait_for(lambda: _refused_posts(rig) >= 2)  # tried, then tried again later
    rig.slack.set_channel_state(CHANNEL, "ok")  # unarchived: no event tells the bot
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["1:running"])
    assert len(_dms(rig, "U_ALICE")) == 1  # told once, however many tries


async def test_the_admins_are_told_when_the_job_has_no_creator(make_app_rig: MakeAppRig) -> None:
    rig = await make_app_rig(admins="U_ADMIN,U_OPS")
    control = rig.bot.control
    job_id, card = await rig.bot.create_job(channel=CHANNEL, extra="suffix=orphan")
    # A job nobody in Slack started (found by the watcher, say): drop the creator the command recorded.
    tracked = await rig.bot.store.get_job(job_id)
    assert tracked is not None and tracked.creator == "U_ALICE"
    # In a thread: the bot shares this event loop and may be in the middle of a write it must finish.
    await asyncio.to_thread(_drop_creator, rig.bot.services.settings.db_path, job_id)
    rig.slack.set_channel_state(CHANNEL, "not_in_channel")

    await control.set_job(job_id, status="running")
    await rig.slack.wait_for(lambda: _dms(rig, "U_ADMIN") and _dms(rig, "U_OPS"))
    assert _dms(rig, "U_ALICE") == []
    assert rig.transitions(CHANNEL, card.ts) == []


def _drop_creator(db_path: str, job_id: str) -> None:
    with sqlite3.connect(db_path, timeout=30) as db:
        db.execute("UPDATE jobs SET creator = NULL WHERE job_id = ?", (job_id,))


def _refused_posts(rig: AppRig) -> int:
    return sum(
        1
        for call in rig.slack.calls_to("chat.postMessage")
        if call.args.get("channel") == CHANNEL and call.error == "is_archived"
    )


async def _until_outbox(rig: AppRig, predicate: Callable[[Any], bool]) -> None:
    async def met() -> bool:
        return predicate(await rig.bot.store.outbox_stats(now=rig.bot.services.clock()))

    deadline = time.monotonic() + 10.0
    while not await met():
        if time.monotonic() >= deadline:
            raise TimeoutError("outbox condition not met within 10 s")
        await asyncio.sleep(0.02)
