"""An answer about another job than the one asked is an error: it is never recorded, nor put on a card.

The real Bolt app over HTTP, the emulator answering every request about the job with another job's id,
and the Slack stand-in: the Cancel click is answered privately saying the cancel may have been done, and
no card, note or button ever carries the other id.
"""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.views.actions import ACTION_CANCEL
from tests.support.background import AppRig

CHANNEL = "C_ML"
OTHER = "ftjob-someone-else"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def test_an_answer_naming_another_job_never_reaches_a_card(app_rig: AppRig) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=foreign")
    await control.advance(30)
    await rig.slack.wait_for(
        lambda: ACTION_CANCEL in str(getattr(rig.slack.message(CHANNEL, card.ts), "blocks", ""))
    )
    await control.set_job_fields(job_id, {"id": OTHER})

    current = rig.slack.message(CHANNEL, card.ts)
    assert current is not None
    sent = await rig.slack.sender.click(current, ACTION_CANCEL, user="U_ALICE")
    answer = await rig.bot.answer_text(sent)

    assert "may have been done" in answer
    everything = str(rig.slack.messages(CHANNEL)) + str(rig.slack.thread(CHANNEL, card.ts))
    assert OTHER not in everything
    tracked = await rig.bot.store.get_job(job_id)
    assert tracked is not None and OTHER not in str(tracked.snapshot)


async def test_an_unreadable_answer_to_cancel_says_the_cancel_may_have_been_done(app_rig: AppRig) -> None:
    rig, control = app_rig, app_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=garbled")
    await control.advance(30)
    await rig.slack.wait_for(
        lambda: ACTION_CANCEL in str(getattr(rig.slack.message(CHANNEL, card.ts), "blocks", ""))
    )
    await control.set_faults(raw_body="<html>upstream reset</html>", path_contains=f"{job_id}/cancel")

    current = rig.slack.message(CHANNEL, card.ts)
    assert current is not None
    sent = await rig.slack.sender.click(current, ACTION_CANCEL, user="U_ALICE")
    answer = await rig.bot.answer_text(sent)

    assert "the cancel may have been done" in answer
