"""A poll that read a job before a Pause click, and reached storage after it, changes nothing.

The watcher reads a running job, then its metrics events, then records both. The emulator holds the events
read for a few seconds (injected latency), so the watcher sits between its read and its record while a
person clicks Pause in Slack. Its read ("running") is older than the Pause's answer ("paused"): recorded
after it, it would tell the thread "running" and, at the next poll, "paused" once more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from bot.emulator.control import EmulatorControl
from bot.views.actions import ACTION_PAUSE, ACTION_RESUME
from tests.support.background import AppRig

CHANNEL = "C_ML"
HOLD_MS = 3000  # how long the watcher's events read is held at the API: the click lands inside it


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def _until(predicate: Callable[[], Awaitable[object]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)


async def _answered(control: EmulatorControl, operation: str) -> int:
    """How many requests of `operation` the emulator answered since its stats were last reset."""
    return sum((await control.stats())["by_operation"].get(operation, {}).values())


async def test_a_poll_overtaken_by_a_pause_click_adds_no_running_and_paused_pair(app_rig: AppRig) -> None:
    rig, control, store = app_rig, app_rig.bot.control, app_rig.bot.store
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=race")
    await control.advance(30 + 6 * 5)  # running, a few steps in
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts) == ["1:running"])
    await rig.slack.wait_for(lambda: ACTION_PAUSE in str(card.blocks))

    # From now on every events read waits at the API. The stats are reset after the rule is in place, so
    # a job read counted below is followed by an events read that is held.
    await control.set_faults(latency_ms=HOLD_MS, path_contains="/events", method="GET")
    await control.reset_stats()
    await _until(lambda: _answered(control, "retrieveFineTuningJob"))  # the watcher read "running"

    sent = await rig.slack.sender.click(card, ACTION_PAUSE, user="U_ALICE")
    assert sent.status == 200
    await rig.slack.wait_for(lambda: ACTION_RESUME in str(card.blocks))
    tracked = await store.get_job(job_id)
    assert tracked is not None and tracked.status == "paused"
    # The race really happened: the Pause was recorded while the watcher still waited for its events.
    assert await _answered(control, "listFineTuningEvents") == 0

    # Let the held read finish and be recorded (the watcher's cycle ends after it), then one more poll.
    await _until(lambda: _answered(control, "listFineTuningEvents"))
    await control.clear_faults()
    released = rig.bot.services.clock()
    watcher = rig.background.watcher
    await rig.slack.wait_for(lambda: (watcher.last_cycle_at or 0.0) > released)
    await control.reset_stats()
    await _until(lambda: _answered(control, "retrieveFineTuningJob"))
    polled = rig.bot.services.clock()
    await rig.slack.wait_for(lambda: (watcher.last_cycle_at or 0.0) > polled)

    async def delivered() -> bool:
        return (await store.outbox_stats(now=rig.bot.services.clock())).pending == 0

    await _until(delivered)
    # One reply for the click, naming who paused; no "running" from the old read, no second "paused".
    assert rig.transitions(CHANNEL, card.ts) == ["1:running", "2:paused"]
    notes = rig.notes(CHANNEL, card.ts)
    assert sum("Paused by <@U_ALICE>" in note.text for note in notes) == 1
    tracked = await store.get_job(job_id)
    assert tracked is not None
    assert (tracked.status, tracked.status_seq) == ("paused", 2)
    # The card kept showing the job paused: once it offered Resume it never offered Pause again.
    looks = [str(version.blocks) for version in card.versions] + [str(card.blocks)]
    paused_from = next(n for n, look in enumerate(looks) if ACTION_RESUME in look)
    assert all(ACTION_PAUSE not in look for look in looks[paused_from:])
    assert await rig.bot.job_status_in_emulator(job_id) == "paused"
