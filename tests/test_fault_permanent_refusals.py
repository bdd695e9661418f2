"""A reply Slack refuses for good (`msg_too_long`, `invalid_blocks`, …) never blocks its job's thread.

Through the real Bolt app: `/finetune create` posts the card, the emulator moves the job, the stand-in
refuses the notifier's replies the way Slack refuses a message it will never take (HTTP 200, `ok: false`).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.jobs.records import OutboxStats
from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import AppRig
from tests.support.runtime import CREATE_ARGS

CHANNEL = "C_ML"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


def _replies(rig: AppRig, card_ts: str) -> list[dict[str, object]]:
    """The arguments of every reply the bot tried to post in the card's thread, in order."""
    return [
        call.args
        for call in rig.slack.calls_to("chat.postMessage")
        if call.args.get("channel") == CHANNEL and call.args.get("thread_ts") == card_ts
    ]


async def _settled(rig: AppRig) -> OutboxStats:
    """The outbox once every row is done (a post shows in Slack a moment before it is marked sent)."""
    deadline = time.monotonic() + 10.0
    while True:
        stats = await rig.bot.store.outbox_stats(now=rig.bot.services.clock())
        if stats.pending == 0:
            return stats
        if time.monotonic() >= deadline:
            raise TimeoutError(f"rows still pending: {stats}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("error", ["msg_too_long", "invalid_blocks", "invalid_attachments"])
async def test_a_reply_refused_for_good_goes_out_once_as_plain_text_and_later_notes_follow(
    app_rig: AppRig, error: str
) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(channel=CHANNEL, extra="suffix=refused")
    # From now on Slack refuses every message with blocks in this channel, however often it is sent.
    rig.slack.refuse(error, channel=CHANNEL, with_blocks=True)

    await control.set_job(job_id, status="running")
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["1:running"])
    await control.set_job(job_id, status="cancelled")
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["1:running", "2:cancelled"])

    # Each note: one refused try with blocks, one plain-text fallback; never a retry of the same message.
    tries = _replies(rig, card.ts)
    assert [bool(args.get("blocks")) for args in tries] == [True, False, True, False]
    notes = rig.notes(CHANNEL, card.ts)
    assert all(note.blocks == [] and note.text for note in notes)
    stats = await _settled(rig)
    assert stats.given_up == 0


async def test_a_reply_whose_fallback_is_refused_too_is_given_up_and_the_thread_moves_on(
    app_rig: AppRig,
) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(channel=CHANNEL, extra="suffix=refused")
    # The next two posts in the channel (the note and its plain fallback) are refused for good.
    rig.slack.refuse("msg_too_long", channel=CHANNEL, times=2)

    await control.set_job(job_id, status="running")
    await rig.slack.wait_for(lambda: len(_replies(rig, card.ts)) == 2)
    await control.set_job(job_id, status="cancelled")
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["2:cancelled"])

    # The refused note was tried twice (as built, then as plain text) and then given up, not retried.
    assert len(_replies(rig, card.ts)) == 3
    stats = await _settled(rig)
    assert stats.given_up == 1


async def test_a_card_refused_for_good_at_create_is_posted_at_once_as_plain_text(app_rig: AppRig) -> None:
    rig = app_rig
    rig.slack.refuse("invalid_blocks", channel=CHANNEL, with_blocks=True)
    sent = await rig.slack.sender.slash(
        f"create {CREATE_ARGS} suffix=plaincard", user="U_ALICE", channel=CHANNEL
    )
    answer = await rig.bot.answer_text(sent)

    (card,) = rig.slack.messages(CHANNEL)  # posted by the create itself, before any note
    (tracked,) = await rig.bot.store.channel_jobs(CHANNEL, limit=5)
    assert card.blocks == []
    assert tracked.job_id in card.text
    assert "not posted" not in answer
    watch = await rig.bot.store.get_watch(tracked.job_id, CHANNEL)
    assert watch is not None and watch.card_ts == card.ts  # its later edits and replies go to this one
