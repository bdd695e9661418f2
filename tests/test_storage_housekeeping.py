"""Jobs no channel follows are not polled; old delivered notes of finished jobs are pruned."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from storage.sqlite import SqliteStore
from tests.support.storage import new_job, seen

DAY = 86400.0


async def test_a_job_every_channel_stopped_watching_is_not_due_until_watched_again(
    store: SqliteStore,
) -> None:
    await store.track_job(new_job("ftjob-kept"), now=0.0)
    await store.track_job(new_job("ftjob-dropped"), now=0.0)
    await store.add_watch("ftjob-kept", "C-OTHER", user="U-B", now=0.0)
    assert {job.job_id for job in await store.due_jobs(now=1.0, limit=10)} == {"ftjob-kept", "ftjob-dropped"}

    assert await store.remove_watch("ftjob-dropped", "C-OWNER")
    assert await store.remove_watch("ftjob-kept", "C-OWNER")  # another channel still follows it
    assert [job.job_id for job in await store.due_jobs(now=1.0, limit=10)] == ["ftjob-kept"]

    # `watch` adopts it again: it is due at once (its poll time passed while nobody followed it).
    assert await store.add_watch("ftjob-dropped", "C-NEW", user="U-C", now=500.0)
    assert {job.job_id for job in await store.due_jobs(now=500.0, limit=10)} == {
        "ftjob-kept",
        "ftjob-dropped",
    }


def _outbox(path: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT job_id, transition, state FROM outbox ORDER BY id").fetchall()


def _delivery_keys(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [key for (key,) in db.execute("SELECT key FROM seen_deliveries ORDER BY key")]


async def _deliver(store: SqliteStore, *, now: float, give_up: str | None = None) -> None:
    while notes := await store.claim_due_outbox(now=now, limit=100, lease=1.0):
        for note in notes:
            if note.transition == give_up:
                await store.mark_given_up(note.id, error="is_archived", now=now)
            else:
                await store.mark_sent(note.id, ts=f"{now:.1f}", now=now)


async def test_prune_deletes_old_delivered_notes_of_finished_jobs_only(
    store: SqliteStore, store_path: Path
) -> None:
    await store.track_job(new_job("ftjob-done"), now=0.0)
    await store.track_job(new_job("ftjob-running"), now=0.0)
    for job_id, status, read_at in (
        ("ftjob-done", "running", 1.0),
        ("ftjob-running", "running", 1.0),
        ("ftjob-done", "cancelled", 2.0),
    ):
        await store.record_observation(job_id, seen(status, read_at=read_at), now=read_at, next_poll_at=30.0)
    await _deliver(store, now=3.0, give_up="2:cancelled")
    # A later note of the finished job, still waiting (say, a stuck note racing the end), and a recent one.
    await store.note_stuck("ftjob-done", now=40 * DAY)
    await store.remember_delivery("Ev-old", now=0.0, ttl=600.0)
    await store.remember_delivery("Ev-live", now=40 * DAY, ttl=600.0)

    removed = await store.prune_delivered(before=40 * DAY - 30 * DAY, now=40 * DAY)

    # The finished job's "running" (sent), "cancelled" (given up) and the loss curve queued with its end.
    assert removed == 3
    assert _outbox(store_path) == [
        ("ftjob-running", "1:running", "sent"),  # its job still runs: kept
        ("ftjob-done", "stuck:2", "pending"),  # never pruned while pending
    ]
    assert _delivery_keys(store_path) == ["Ev-live"]
    # Nothing is left to prune; notes recorded afterwards are numbered and delivered as before.
    assert await store.prune_delivered(before=10 * DAY, now=40 * DAY) == 0
    change = await store.record_observation(
        "ftjob-running", seen("succeeded", read_at=40 * DAY), now=40 * DAY, next_poll_at=0.0
    )
    assert change is not None and change.seq == 2


async def test_prune_keeps_notes_delivered_within_the_retention(store: SqliteStore, store_path: Path) -> None:
    await store.track_job(new_job(), now=0.0)
    await store.record_observation("ftjob-1", seen("succeeded", read_at=1.0), now=1.0, next_poll_at=2.0)
    await _deliver(store, now=20 * DAY)  # delivered late (a long Slack outage)
    assert await store.prune_delivered(before=40 * DAY - 30 * DAY, now=40 * DAY) == 0
    assert _outbox(store_path) == [("ftjob-1", "1:succeeded", "sent"), ("ftjob-1", "chart:1", "sent")]
    assert await store.prune_delivered(before=51 * DAY - 30 * DAY, now=51 * DAY) == 2
    assert _outbox(store_path) == []
