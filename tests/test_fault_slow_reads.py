"""One job whose reads hang must not hold every other job: each watcher read has its own deadline.

The real Bolt app runs over HTTP with the emulator and the Slack stand-in; the emulator delays every
request about one job by two minutes (longer than the client's own timeout and its retries). The other
job's success note still goes out, the watcher keeps finishing cycles (what health is judged by), and the
slow job alone is put off. Once the API answers it again, its own note follows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import AppRig

SLOW_MS = 120_000


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def _running_jobs(rig: AppRig) -> tuple[str, str, str, str]:
    slow_id, slow_card = await rig.bot.create_job(channel="C_SLOW", extra="suffix=slow")
    fast_id, fast_card = await rig.bot.create_job(channel="C_FAST", extra="suffix=fast")
    await rig.bot.control.advance(30)
    for channel, ts in (("C_SLOW", slow_card.ts), ("C_FAST", fast_card.ts)):
        await rig.slack.wait_for(_now_running(rig, channel, ts))
    return slow_id, slow_card.ts, fast_id, fast_card.ts


def _now_running(rig: AppRig, channel: str, ts: str) -> Callable[[], bool]:
    return lambda: _statuses(rig, channel, ts)[-1:] == ["running"]


def _statuses(rig: AppRig, channel: str, ts: str) -> list[str]:
    return [transition.partition(":")[2] for transition in rig.transitions(channel, ts)]


@pytest.mark.parametrize("slow_path", ["job", "events"])
async def test_a_job_whose_reads_hang_does_not_hold_another_jobs_note_nor_the_cycle(
    app_rig: AppRig, slow_path: str
) -> None:
    rig, control = app_rig, app_rig.bot.control
    watcher = rig.background.watcher
    slow_id, slow_ts, fast_id, fast_ts = await _running_jobs(rig)

    path = slow_id if slow_path == "job" else f"{slow_id}/events"
    await control.set_faults(latency_ms=SLOW_MS, path_contains=path)
    await control.advance(6 * 100)  # both jobs succeed in the emulator
    await rig.slack.wait_for(lambda: _statuses(rig, "C_FAST", fast_ts)[-1:] == ["succeeded"])

    # The watcher is not stuck behind the slow read: it finishes cycle after cycle.
    cycles = watcher.cycles
    await rig.slack.wait_for(lambda: watcher.cycles >= cycles + 3)
    now = rig.bot.services.clock()
    assert rig.background.healthy(now)
    if slow_path == "job":
        # Nothing was read of the slow job, so nothing is said; it is put off on its own.
        assert _statuses(rig, "C_SLOW", slow_ts)[-1:] == ["running"]
        tracked = await rig.bot.store.get_job(slow_id)
        assert tracked is not None and tracked.status == "running"
        assert tracked.next_poll_at > now
    else:
        # The status was read in time: the end is told without waiting for the hanging events.
        await rig.slack.wait_for(lambda: _statuses(rig, "C_SLOW", slow_ts)[-1:] == ["succeeded"])

    await control.clear_faults()
    await rig.slack.wait_for(lambda: _statuses(rig, "C_SLOW", slow_ts)[-1:] == ["succeeded"], timeout=20)
    assert _statuses(rig, "C_SLOW", slow_ts).count("succeeded") == 1
    assert await rig.bot.job_status_in_emulator(fast_id) == "succeeded"
