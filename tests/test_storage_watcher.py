"""What the watcher stores: due jobs, observations and their notifications, "looks stuck" notes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.jobs.records import Observation, Progress
from storage.errors import JobNotTrackedError
from storage.observations import DUE_JOBS_QUERY
from storage.sqlite import SqliteStore
from tests.support.storage import new_job, seen


async def test_due_jobs_are_the_active_ones_whose_time_has_come_most_overdue_first(
    store: SqliteStore,
) -> None:
    for job_id in ("ftjob-a", "ftjob-b", "ftjob-c", "ftjob-d"):
        await store.track_job(new_job(job_id), now=0.0)
    await store.schedule_poll("ftjob-a", next_poll_at=30.0)
    await store.schedule_poll("ftjob-b", next_poll_at=10.0)
    await store.schedule_poll("ftjob-c", next_poll_at=20.0)
    await store.record_observation("ftjob-d", seen("paused"), now=1.0, next_poll_at=5.0)

    assert [j.job_id for j in await store.due_jobs(now=0.0, limit=10)] == []
    assert [j.job_id for j in await store.due_jobs(now=20.0, limit=10)] == ["ftjob-d", "ftjob-b", "ftjob-c"]
    assert [j.job_id for j in await store.due_jobs(now=20.0, limit=2)] == ["ftjob-d", "ftjob-b"]

    # The watcher's final read of a finished job: it is never due again.
    await store.record_observation("ftjob-b", seen("cancelled", final_read=True), now=21.0, next_poll_at=25.0)
    assert [j.job_id for j in await store.due_jobs(now=1000.0, limit=10)] == ["ftjob-d", "ftjob-c", "ftjob-a"]


async def _due(store: SqliteStore, now: float = 1e9) -> list[str]:
    return [job.job_id for job in await store.due_jobs(now=now, limit=10)]


async def test_a_job_someone_else_saw_finish_stays_due_until_the_watchers_final_read(
    store: SqliteStore,
) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.schedule_poll("ftjob-1", next_poll_at=100.0)

    # A Cancel click records the API's answer (not a final read: no events were read with it). The job is
    # due at once, whatever poll time the click asked for, and stays due through another Refresh.
    change = await store.record_observation("ftjob-1", seen("cancelled"), now=10.0, next_poll_at=40.0)
    assert change is not None and change.current == "cancelled"
    assert await _due(store, now=10.0) == ["ftjob-1"]
    await store.record_observation("ftjob-1", seen("cancelled"), now=12.0, next_poll_at=50.0)
    assert await _due(store, now=12.0) == ["ftjob-1"]

    # The watcher's final read: the last figures are stored, and the job is never due again.
    final = seen("cancelled", final_read=True, step=40, total_steps=100, train_loss=0.9)
    assert await store.record_observation("ftjob-1", final, now=13.0, next_poll_at=43.0) is None
    job = await store.get_job("ftjob-1")
    assert job is not None and (job.progress.step, job.progress.train_loss) == (40, 0.9)
    assert await _due(store) == []
    # A later Refresh of the finished job does not make it due again.
    await store.record_observation("ftjob-1", seen("cancelled"), now=20.0, next_poll_at=50.0)
    assert await _due(store) == []
    # One note for the one change, and the end's loss curve.
    assert (await store.outbox_stats(now=21.0)).pending == 2


async def test_a_job_the_watcher_saw_finish_itself_is_not_due_again(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    change = await store.record_observation(
        "ftjob-1", seen("succeeded", final_read=True, train_loss=0.2), now=1.0, next_poll_at=31.0
    )
    assert change is not None
    assert await _due(store) == []


async def test_a_job_tracked_already_finished_is_due_once_for_its_last_figures(store: SqliteStore) -> None:
    await store.track_job(new_job("ftjob-done", status="succeeded"), now=5.0)
    assert await _due(store, now=5.0) == ["ftjob-done"]
    await store.record_observation(
        "ftjob-done", seen("succeeded", final_read=True, valid_loss=0.3), now=6.0, next_poll_at=36.0
    )
    assert await _due(store) == []
    assert (await store.outbox_stats(now=7.0)).pending == 0  # no change to tell


async def test_a_final_read_given_up_is_not_due_again(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.record_observation("ftjob-1", seen("failed"), now=1.0, next_poll_at=31.0)
    assert await store.give_up_final_read("ftjob-1")
    assert not await store.give_up_final_read("ftjob-1")
    assert await _due(store) == []
    # Nothing else changed: the status and its note (and the end's loss curve) stay.
    job = await store.get_job("ftjob-1")
    assert job is not None and job.status == "failed"
    assert (await store.outbox_stats(now=2.0)).pending == 2


async def test_the_due_jobs_query_reads_the_partial_index(store: SqliteStore, store_path: Path) -> None:
    for n in range(50):
        await store.track_job(new_job(f"ftjob-{n}", status="succeeded" if n % 2 else "running"), now=0.0)
    with closing(sqlite3.connect(store_path)) as db:
        db.execute("ANALYZE")
        plan = " ".join(
            str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {DUE_JOBS_QUERY}", (1.0, 10)).fetchall()
        )
    assert "USING INDEX jobs_due" in plan, plan


async def test_an_unknown_status_is_kept_and_polled(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=0.0)
    change = await store.record_observation("ftjob-1", seen("warming_up"), now=1.0, next_poll_at=2.0)
    assert change is not None
    assert change.current == "warming_up"
    assert [j.status for j in await store.due_jobs(now=2.0, limit=10)] == ["warming_up"]


async def test_a_status_change_is_recorded_with_one_note_per_channel(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=0.0)
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=1.0)
    await store.add_watch("ftjob-1", "C-GONE", user="U-C", now=1.0)
    await store.mark_channel_unreachable("C-GONE", reason="is_archived", now=2.0, retry_at=100.0)

    change = await store.record_observation(
        "ftjob-1",
        seen("running", details={"actor": "U-B", "previous": "spoofed", "seq": 99}),
        now=3.0,
        next_poll_at=33.0,
    )
    assert change is not None
    assert (change.job_id, change.previous, change.current, change.seq) == ("ftjob-1", "queued", "running", 1)
    assert len(change.outbox_ids) == 3  # the unreachable channel's note waits for its next try

    job = await store.get_job("ftjob-1")
    assert job is not None
    assert (job.status, job.status_seq, job.version, job.next_poll_at, job.updated_at) == (
        "running",
        1,
        2,
        33.0,
        3.0,
    )
    notes = await store.claim_due_outbox(now=3.0, limit=10, lease=30.0)
    assert [n.id for n in notes] == list(change.outbox_ids)[:2]
    assert [(n.channel, n.transition, n.kind) for n in notes] == [
        ("C-OWNER", "1:running", "status"),
        ("C-B", "1:running", "status"),
    ]
    assert notes[0].payload == {"actor": "U-B", "previous": "queued", "current": "running", "seq": 1}
    assert notes[0].created_at == 3.0


async def test_seeing_the_same_status_again_enqueues_nothing(store: SqliteStore) -> None:
    await store.track_job(new_job(), now=0.0)
    assert await store.record_observation("ftjob-1", seen("queued"), now=1.0, next_poll_at=31.0) is None
    first = await store.record_observation("ftjob-1", seen("running"), now=2.0, next_poll_at=32.0)
    again = await store.record_observation("ftjob-1", seen("running"), now=3.0, next_poll_at=33.0)
    assert first is not None
    assert again is None
    assert (await store.outbox_stats(now=4.0)).pending == 1
    job = await store.get_job("ftjob-1")
    assert job is not None
    assert (job.status_seq, job.next_poll_at) == (1, 33.0)


async def test_progress_merges_with_what_is_stored_and_bumps_only_the_version(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.record_observation(
        "ftjob-1",
        seen("running", step=10, total_steps=100, train_loss=1.5, valid_loss=1.7, estimated_finish=5000),
        now=1.0,
        next_poll_at=31.0,
    )
    change = await store.record_observation(
        "ftjob-1", seen("running", step=20, train_loss=1.2), now=2.0, next_poll_at=32.0
    )
    assert change is None
    job = await store.get_job("ftjob-1")
    assert job is not None
    assert job.progress == Progress(
        step=20, total_steps=100, train_loss=1.2, valid_loss=1.7, estimated_finish=5000
    )
    assert job.progress.fraction == 0.2
    assert (job.version, job.status_seq) == (3, 0)
    assert (await store.outbox_stats(now=3.0)).pending == 0


async def test_a_new_snapshot_alone_bumps_the_version(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running", snapshot={"status": "running"}), now=0.0)
    observation = Observation(
        status="running",
        progress=Progress(),
        snapshot={"status": "running", "trained_tokens": 12},
        read_at=1.0,
    )
    await store.record_observation("ftjob-1", observation, now=1.0, next_poll_at=2.0)
    job = await store.get_job("ftjob-1")
    assert job is not None
    assert job.snapshot == {"status": "running", "trained_tokens": 12}
    assert job.version == 2
    await store.record_observation("ftjob-1", observation, now=2.0, next_poll_at=3.0)
    same = await store.get_job("ftjob-1")
    assert same is not None
    assert same.version == 2


async def test_the_newest_event_keeps_the_time_it_was_first_seen(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)

    def event(event_id: str | None, at: float | None) -> Observation:
        return Observation(
            status="running",
            progress=Progress(),
            snapshot={},
            last_event_id=event_id,
            last_event_at=at,
            read_at=0.0,
        )

    await store.record_observation("ftjob-1", event("ev-1", 10.0), now=10.0, next_poll_at=40.0)
    await store.record_observation("ftjob-1", event("ev-1", 40.0), now=40.0, next_poll_at=70.0)
    await store.record_observation("ftjob-1", event(None, None), now=70.0, next_poll_at=100.0)
    job = await store.get_job("ftjob-1")
    assert job is not None
    assert (job.last_event_id, job.last_event_at) == ("ev-1", 10.0)

    await store.record_observation("ftjob-1", event("ev-2", None), now=100.0, next_poll_at=130.0)
    job = await store.get_job("ftjob-1")
    assert job is not None
    assert (job.last_event_id, job.last_event_at) == ("ev-2", 100.0)


async def test_observing_an_untracked_job_is_an_error(store: SqliteStore) -> None:
    with pytest.raises(JobNotTrackedError):
        await store.record_observation("ftjob-ghost", seen("running"), now=1.0, next_poll_at=2.0)
    with pytest.raises(JobNotTrackedError):
        await store.note_stuck("ftjob-ghost", now=1.0)
    # The failed transactions left the connection usable.
    await store.track_job(new_job(), now=1.0)
    assert await store.get_job("ftjob-1") is not None


async def test_looks_stuck_is_noted_once_per_status(store: SqliteStore) -> None:
    await store.track_job(new_job(status="running"), now=0.0)
    await store.add_watch("ftjob-1", "C-B", user="U-B", now=0.0)
    await store.record_observation(
        "ftjob-1",
        Observation(
            status="running",
            progress=Progress(),
            snapshot={},
            last_event_id="ev-1",
            last_event_at=5.0,
            read_at=0.0,
        ),
        now=5.0,
        next_poll_at=35.0,
    )
    before = await store.get_job("ftjob-1")
    assert before is not None
    assert not before.stuck_noted

    assert await store.note_stuck("ftjob-1", now=900.0)
    assert not await store.note_stuck("ftjob-1", now=960.0)
    after = await store.get_job("ftjob-1")
    assert after is not None
    assert after.stuck_noted
    assert after.version == before.version + 1
    notes = await store.claim_due_outbox(now=900.0, limit=10, lease=30.0)
    assert [(n.channel, n.kind, n.transition) for n in notes] == [
        ("C-OWNER", "stuck", "stuck:0"),
        ("C-B", "stuck", "stuck:0"),
    ]
    assert notes[0].payload == {"status": "running", "seq": 0, "last_event_at": 5.0}

    await store.record_observation("ftjob-1", seen("paused"), now=1000.0, next_poll_at=1030.0)
    paused = await store.get_job("ftjob-1")
    assert paused is not None
    assert not paused.stuck_noted
    assert await store.note_stuck("ftjob-1", now=2000.0)
    assert not await store.note_stuck("ftjob-1", now=2001.0)
