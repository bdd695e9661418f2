"""The watcher leaves alone jobs nobody follows, and prunes notes of long-finished jobs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.background import Rig, RigFactory
from tests.support.storage import new_job, seen

CHANNEL = "C_TEAM"
DAY = 86400.0


async def _answered(control: EmulatorControl, operation: str) -> int:
    return sum((await control.stats())["by_operation"].get(operation, {}).values())


async def test_an_unwatched_job_is_not_polled_until_a_channel_watches_it_again(watch_rig: Rig) -> None:
    rig = watch_rig
    await rig.control.set_speed(0)
    job_id = await rig.start_job(CHANNEL, "U_ALICE")
    await rig.control.advance(30)
    await rig.until(lambda: rig.statuses(job_id, CHANNEL) == ["running"])

    assert await rig.store.remove_watch(job_id, CHANNEL)  # what `/finetune unwatch` does
    await rig.control.set_job(job_id, status="succeeded")
    tracked = await rig.store.get_job(job_id)
    assert tracked is not None
    await rig.until_async(lambda: _after(rig, tracked.next_poll_at))  # its poll time has come and gone
    await rig.control.reset_stats()

    result = await rig.background.watcher.run_cycle()

    assert result.due == 0
    assert await _answered(rig.control, "retrieveFineTuningJob") == 0
    assert await _answered(rig.control, "listPaginatedFineTuningJobs") == 0
    still = await rig.store.get_job(job_id)
    assert still is not None and still.status == "running"

    # Watched again: polled again, and the channel hears how it ended under its new card.
    await rig.watch_from(job_id, CHANNEL, user="U_BOB")
    await rig.until(lambda: rig.statuses(job_id, CHANNEL) == ["succeeded"])


async def _after(rig: Rig, moment: float) -> bool:
    return rig.services.clock() > moment


def _outbox(path: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT job_id, transition FROM outbox ORDER BY id").fetchall()


@pytest.mark.parametrize("finished_days_ago", [40.0, 2.0])
async def test_the_watcher_prunes_notes_delivered_over_30_days_ago_when_it_starts(
    make_rig: RigFactory, store_path: Path, finished_days_ago: float
) -> None:
    rig = await make_rig(start=False)
    store, then = rig.store, rig.services.clock() - finished_days_ago * DAY
    await store.track_job(new_job("ftjob-old"), now=then)
    await store.record_observation("ftjob-old", seen("succeeded", read_at=then), now=then, next_poll_at=then)
    # The end's note, then its loss curve (which waits behind it), both delivered then.
    while batch := await store.claim_due_outbox(now=then, limit=10, lease=1.0):
        for note in batch:
            await store.mark_sent(note.id, ts="1.0", now=then)
    delivered = [("ftjob-old", "1:succeeded"), ("ftjob-old", "chart:1")]
    assert _outbox(store_path) == delivered

    await rig.background.start()
    # The watcher prunes right after its first cycle: once a second cycle ended, that prune is done.
    watcher = rig.background.watcher
    first = await rig.until(lambda: watcher.last_cycle_at)
    await rig.until(lambda: (watcher.last_cycle_at or 0.0) > first)

    expected = [] if finished_days_ago > 30 else delivered
    assert _outbox(store_path) == expected
