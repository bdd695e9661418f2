"""Reads of a job are applied in the order their requests were sent, whatever order they are recorded in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from bot.jobs.records import NewJob
from storage.migrations import MIGRATIONS, apply_migrations
from storage.sqlite import SqliteStore, open_store
from tests.support.storage import new_job, seen


async def _outbox_transitions(store: SqliteStore) -> list[tuple[str, str]]:
    """Every note waiting, in delivery order (each is marked sent, as the notifier would)."""
    delivered: list[tuple[str, str]] = []
    while notes := await store.claim_due_outbox(now=1e9, limit=100, lease=1.0):
        for note in notes:
            await store.mark_sent(note.id, ts="1.0", now=1e9)
            delivered.append((note.channel, note.transition))
    return delivered


async def test_an_older_read_recorded_after_a_newer_one_changes_nothing(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    # A person's Pause, sent at 10 and answered "paused", is recorded first…
    paused = await store.record_observation(
        "ftjob-1", seen("paused", read_at=10.0, details={"actor": "U-A"}), now=11.0, next_poll_at=16.0
    )
    assert paused is not None and (paused.previous, paused.current, paused.seq) == ("running", "paused", 1)
    before = await store.get_job("ftjob-1")
    assert before is not None

    # …then the poll sent at 5, before the click, which still saw "running".
    stale = await store.record_observation(
        "ftjob-1", seen("running", read_at=5.0, step=7), now=12.0, next_poll_at=42.0
    )

    assert stale is None
    after = await store.get_job("ftjob-1")
    assert after == before  # status, sequence, progress, snapshot, version, next poll: all as they were
    assert await _outbox_transitions(store) == [("C-OWNER", "1:paused")]


async def test_a_read_sent_later_is_applied_and_ties_are_applied_in_recording_order(
    store: SqliteStore,
) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.record_observation("ftjob-1", seen("paused", read_at=10.0), now=11.0, next_poll_at=16.0)
    resumed = await store.record_observation(
        "ftjob-1", seen("queued", read_at=20.0), now=21.0, next_poll_at=50.0
    )
    assert resumed is not None and resumed.seq == 2
    same_instant = await store.record_observation(
        "ftjob-1", seen("running", read_at=20.0), now=22.0, next_poll_at=52.0
    )
    assert same_instant is not None and same_instant.current == "running"
    # The stamp moved to 20: a read sent at 15 is older news now.
    assert (
        await store.record_observation("ftjob-1", seen("paused", read_at=15.0), now=23.0, next_poll_at=60.0)
        is None
    )
    assert await _outbox_transitions(store) == [
        ("C-OWNER", "1:paused"),
        ("C-OWNER", "2:queued"),
        ("C-OWNER", "3:running"),
    ]


async def test_the_final_read_of_a_finished_job_is_kept_when_a_refresh_overtook_it(
    store: SqliteStore,
) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.record_observation(
        "ftjob-1", seen("running", read_at=1.0, step=90), now=1.0, next_poll_at=31.0
    )
    # Someone's Refresh (sent at 40) finds the job succeeded and records it, without metrics.
    done = await store.record_observation(
        "ftjob-1", seen("succeeded", read_at=40.0), now=41.0, next_poll_at=71.0
    )
    assert done is not None and done.seq == 1
    # The watcher's final read, sent at 35, comes in late with the last step and losses: still true.
    final = await store.record_observation(
        "ftjob-1",
        seen("succeeded", read_at=35.0, step=100, total_steps=100, train_loss=0.125),
        now=42.0,
        next_poll_at=72.0,
    )
    assert final is None  # no new status: nothing more for the thread
    job = await store.get_job("ftjob-1")
    assert job is not None
    assert (job.status, job.status_seq) == ("succeeded", 1)
    assert (job.progress.step, job.progress.total_steps, job.progress.train_loss) == (100, 100, 0.125)
    # The stamp did not go back to 35: an old read that says otherwise is still dropped.
    assert (
        await store.record_observation("ftjob-1", seen("running", read_at=38.0), now=43.0, next_poll_at=73.0)
        is None
    )
    still = await store.get_job("ftjob-1")
    assert still is not None and still.status == "succeeded"
    # One end, told once: its note and the loss curve queued with it.
    assert await _outbox_transitions(store) == [("C-OWNER", "1:succeeded"), ("C-OWNER", "chart:1")]


async def test_a_clock_that_went_back_does_not_freeze_the_job(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.record_observation(
        "ftjob-1", seen("running", read_at=1000.0), now=1000.0, next_poll_at=1030.0
    )
    # The wall clock was stepped back by ten minutes: the stored stamp is in the future.
    change = await store.record_observation(
        "ftjob-1", seen("paused", read_at=400.0), now=401.0, next_poll_at=430.0
    )
    assert change is not None and change.current == "paused"
    # And the stamp is now the one the clock gives: reads go on being ordered from there.
    assert (
        await store.record_observation(
            "ftjob-1", seen("running", read_at=399.0), now=402.0, next_poll_at=430.0
        )
        is None
    )


async def test_a_job_tracked_from_an_api_answer_keeps_when_that_answer_was_asked_for(
    store: SqliteStore,
) -> None:
    tracked = NewJob(
        job_id="ftjob-1",
        provider="openai",
        owner_channel="C-OWNER",
        creator="U-A",
        origin=new_job().origin,
        status="paused",
        snapshot={"status": "paused"},
        read_at=50.0,
    )
    await store.track_job(tracked, now=51.0)
    assert (
        await store.record_observation("ftjob-1", seen("running", read_at=49.0), now=52.0, next_poll_at=60.0)
        is None
    )
    change = await store.record_observation(
        "ftjob-1", seen("queued", read_at=55.0), now=56.0, next_poll_at=60.0
    )
    assert change is not None and change.previous == "paused"


async def test_looks_stuck_is_not_noted_on_a_read_older_than_one_recorded_since(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.record_observation("ftjob-1", seen("running", read_at=100.0), now=100.0, next_poll_at=130.0)
    # The watcher judged "quiet" on a read sent at 90; a newer read (sent at 100) is already recorded.
    assert not await store.note_stuck("ftjob-1", now=3000.0, read_at=90.0)
    job = await store.get_job("ftjob-1")
    assert job is not None and not job.stuck_noted
    assert await _outbox_transitions(store) == []
    # Judged on the latest read, it is noted.
    assert await store.note_stuck("ftjob-1", now=3000.0, read_at=100.0)
    assert await _outbox_transitions(store) == [("C-OWNER", "stuck:0")]


async def test_jobs_tracked_before_the_upgrade_take_their_next_read_whatever_its_age(
    store_path: Path,
) -> None:
    async with aiosqlite.connect(store_path, isolation_level=None) as db:
        assert await apply_migrations(db, MIGRATIONS[:1]) == 1
    with sqlite3.connect(store_path) as db:
        db.execute(
            "INSERT INTO jobs (job_id, provider, owner_channel, origin, status, next_poll_at, created_at, "
            "updated_at) VALUES ('ftjob-old', 'openai', 'C-OWNER', 'command', 'running', 0, 0, 0)"
        )
        db.execute(
            "INSERT INTO watches (job_id, channel, is_owner, created_at) VALUES ('ftjob-old', 'C-OWNER', 1, 0)"
        )
    store = await open_store(store_path)
    try:
        change = await store.record_observation(
            "ftjob-old", seen("paused", read_at=5.0), now=6.0, next_poll_at=10.0
        )
        assert change is not None and change.current == "paused"
        assert (
            await store.record_observation(
                "ftjob-old", seen("running", read_at=4.0), now=7.0, next_poll_at=10.0
            )
            is None
        )
    finally:
        await store.close()
