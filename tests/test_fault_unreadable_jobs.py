"""A job the API keeps refusing to give back is told to its channel once, not silently polled for ever.

The real Bolt app over HTTP with the emulator and the Slack stand-in. The emulator answers every request
about one running job with a 404 (or a 200 that is not a job); after a few failed reads in a row its thread
says "I can't read this job" once, however many reads fail after that. Once the API answers again, the
job's next change is told as usual. Another job in the same channel is not affected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import AppRig, fast_background
from tests.support.runtime import StartBot

CHANNEL = "C_ML"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


@pytest.fixture
async def quick_retry_rig(start_bot: StartBot) -> AsyncIterator[AppRig]:
    """The app with a watcher that tries an unreadable job again every second, not ever less often."""
    bot = await start_bot(background=False, TUNEOPS_POLL_INTERVAL=0.1)
    background = fast_background(bot.services, job_backoff_cap=1.0)
    await background.start()
    try:
        yield AppRig(bot=bot, background=background)
    finally:
        await background.stop(timeout=2.0)


def _kinds(rig: AppRig, card_ts: str) -> list[str]:
    """What each note in the card's thread told: a status ("running") or "unreadable"."""
    return [
        "unreadable" if t.startswith("unreadable:") else t.partition(":")[2]
        for t in rig.transitions(CHANNEL, card_ts)
    ]


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 404, "message": "No such job"}, "does not exist (404)"),
        ({"raw_body": '{"object": "list"}'}, "not a job I can understand"),
    ],
)
async def test_a_job_that_keeps_failing_to_be_read_is_told_once(
    quick_retry_rig: AppRig, fault: dict[str, object], words: str
) -> None:
    rig, control = quick_retry_rig, quick_retry_rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_CAROL", channel=CHANNEL, extra="suffix=gone")
    await control.advance(30)
    await rig.slack.wait_for(lambda: _kinds(rig, card.ts)[-1:] == ["running"])

    await control.set_fault_rules([{**fault, "path_contains": job_id, "method": "GET"}])
    await rig.slack.wait_for(lambda: "unreadable" in _kinds(rig, card.ts), timeout=30)
    note = rig.notes(CHANNEL, card.ts)[-1]
    assert f"I can't read `{job_id}`" in note.text
    assert words in note.text

    # Reads keep failing (one a second): the thread is not told again.
    failed_before = (await control.stats())["faults_injected"]
    await _wait_for_more_faults(control, failed_before + 3)
    assert _kinds(rig, card.ts).count("unreadable") == 1

    # The API answers again: the job's next change reaches the thread as any other.
    await control.clear_faults()
    await control.set_job(job_id, status="succeeded")
    await rig.slack.wait_for(lambda: _kinds(rig, card.ts)[-1:] == ["succeeded"], timeout=30)
    assert _kinds(rig, card.ts) == ["running", "unreadable", "succeeded"]


async def _wait_for_more_faults(control: EmulatorControl, at_least: int) -> None:
    for _ in range(300):
        if (await control.stats())["faults_injected"] >= at_least:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the watcher did not read the job {at_least} times")
