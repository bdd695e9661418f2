"""A restart takes over the rows a dead process had claimed, but not the rows waiting out a retry."""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.watch.watcher import Watcher
from tests.support.background import RigFactory

LEASE = 2.0


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def test_a_restart_keeps_a_row_waiting_out_slacks_retry_after_while_it_takes_over_claimed_ones(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(start=False, lease=LEASE)
    await rig.start_job("C_TEAM", "U_ALICE", suffix="first")
    await rig.start_job("C_TEAM", "U_ALICE", suffix="second")
    await rig.control.advance(30)
    await Watcher(rig.services).run_cycle()  # one "running" note per job, both for C_TEAM
    now = rig.services.clock()
    waiting, in_flight = await rig.store.claim_due_outbox(now=now, limit=10, lease=LEASE)
    # The process that died had been told by Slack to wait before sending the earlier row (a 429 with
    # Retry-After); the later one was on its way when it died.
    await rig.store.mark_retry(waiting.id, error="ratelimited", next_attempt_at=now + LEASE - 0.5)
    waiting_job, in_flight_job = waiting.job_id, in_flight.job_id

    await rig.background.start()
    # One channel delivers in claim order: had the waiting row been taken over, it would come first.
    await rig.until(lambda: rig.statuses(in_flight_job, "C_TEAM") == ["running"])
    assert rig.statuses(waiting_job, "C_TEAM") == []

    # Once its wait is over it is delivered, once.
    await rig.until(lambda: rig.statuses(waiting_job, "C_TEAM") == ["running"])
    assert rig.statuses(in_flight_job, "C_TEAM") == ["running"]


async def test_a_restart_delivers_at_once_a_row_that_had_failed_before_and_was_in_flight_again(
    make_rig: RigFactory,
) -> None:
    # A lease far longer than the test waits: a row left to its lease would never arrive.
    long_lease = 600.0
    rig = await make_rig(start=False, lease=long_lease)
    await rig.start_job("C_TEAM", "U_ALICE", suffix="first")
    await rig.start_job("C_TEAM", "U_ALICE", suffix="second")
    await rig.control.advance(30)
    await Watcher(rig.services).run_cycle()  # one "running" note per job, both for C_TEAM
    now = rig.services.clock()
    waiting, again = await rig.store.claim_due_outbox(now=now, limit=10, lease=long_lease)
    # The dead process had been told to wait 2 s before sending the earlier row; the later one had
    # failed once (a timeout) and was on its way again when it died.
    await rig.store.mark_retry(waiting.id, error="ratelimited", next_attempt_at=now + 2.0)
    await rig.store.mark_retry(again.id, error="timeout", next_attempt_at=now)
    [in_flight] = await rig.store.claim_due_outbox(now=now, limit=10, lease=long_lease)
    assert in_flight.id == again.id

    await rig.background.start()
    await rig.until(lambda: rig.statuses(again.job_id, "C_TEAM") == ["running"])
    assert rig.statuses(waiting.job_id, "C_TEAM") == []

    await rig.until(lambda: rig.statuses(waiting.job_id, "C_TEAM") == ["running"])
    assert rig.statuses(again.job_id, "C_TEAM") == ["running"]
