"""A public channel the bot was never invited to: it may post there (`chat:write.public`) but not read it.

A refused thread or history look-up only means the notifier cannot check for an earlier delivery: it posts,
and the channel is not marked unreachable (only a refused post does that).
"""

from __future__ import annotations

import pytest

from bot.jobs.records import Watch
from bot.sandbox.emulator.control import EmulatorControl
from bot.watch.watcher import Watcher
from tests.support.background import RIG_LEASE, Rig, RigFactory


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


def _errors(rig: Rig, method: str) -> list[str | None]:
    return [call.error for call in rig.slack.calls_to(method)]


async def _watch_with_card(rig: Rig, job_id: str, channel: str) -> Watch | None:
    watch = await rig.store.get_watch(job_id, channel)
    return watch if watch is not None and watch.card_ts is not None else None


async def test_a_reply_in_flight_at_a_restart_is_delivered_where_the_thread_cannot_be_read(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(start=False)
    rig.slack.set_channel_state("C_PUBLIC", "public_not_member")
    job_id = await rig.start_job("C_PUBLIC", "U_ALICE")
    await rig.control.advance(30)
    await Watcher(rig.services).run_cycle()  # records validating_files → running and queues its note
    # The process that died had claimed the row; whether Slack got it is unknown to the next process.
    await rig.store.claim_due_outbox(now=rig.services.clock(), limit=10, lease=RIG_LEASE)

    await rig.background.start()
    await rig.until(lambda: rig.statuses(job_id, "C_PUBLIC") == ["running"])

    assert _errors(rig, "conversations.replies") == ["not_in_channel"]  # it tried to check, and could not
    assert await rig.store.channel_unreachable("C_PUBLIC") is None
    # Later notes still arrive.
    await rig.control.set_job(job_id, status="cancelled")
    await rig.until(lambda: rig.statuses(job_id, "C_PUBLIC") == ["running", "cancelled"])
    assert await rig.store.channel_unreachable("C_PUBLIC") is None


async def test_a_missing_card_is_posted_where_the_history_cannot_be_read(watch_rig: Rig) -> None:
    rig = watch_rig
    rig.slack.set_channel_state("C_PUBLIC", "public_not_member")
    job_id = await rig.start_job("C_OWNER", "U_ALICE")
    await rig.store.add_watch(job_id, "C_PUBLIC", user="U_BOB", now=rig.services.clock())

    await rig.control.advance(30)
    watch = await rig.until_async(lambda: _watch_with_card(rig, job_id, "C_PUBLIC"))
    rig.cards[(job_id, "C_PUBLIC")] = str(watch.card_ts)
    await rig.until(lambda: rig.statuses(job_id, "C_PUBLIC") == ["running"])

    assert [m.ts for m in rig.slack.messages("C_PUBLIC")] == [watch.card_ts]
    assert "not_in_channel" in _errors(rig, "conversations.history")
    assert await rig.store.channel_unreachable("C_PUBLIC") is None
