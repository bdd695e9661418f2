"""Many writers at once: tasks in one process, a second process on the same file, cancelled tasks."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

from bot.jobs.records import AuditEntry, StatusChange
from storage.sqlite import SqliteStore
from tests.storage_crash_writer import STATUSES
from tests.support.storage import assert_database_consistent, new_job, seen

REPO = Path(__file__).resolve().parents[1]
WRITER = Path(__file__).with_name("storage_crash_writer.py")


async def _track_jobs(store: SqliteStore, prefix: str, count: int) -> list[str]:
    job_ids = [f"{prefix}-{n}" for n in range(count)]
    for job_id in job_ids:
        await store.track_job(new_job(job_id), now=0.0)
        await store.add_watch(job_id, "C-SHARED", user="U-1", now=0.0)
    return job_ids


async def _poll_many_times(
    store: SqliteStore, job_ids: list[str], *, seed: int, times: int
) -> list[StatusChange]:
    rng = random.Random(seed)
    changes = []
    for n in range(times):
        job_id = rng.choice(job_ids)
        change = await store.record_observation(
            job_id, seen(rng.choice(STATUSES), step=n), now=float(n), next_poll_at=float(n + 30)
        )
        if change is not None:
            changes.append(change)
    return changes


async def test_many_tasks_writing_at_once_keep_every_change_and_its_notes(
    store: SqliteStore, store_path: Path
) -> None:
    job_ids = await _track_jobs(store, "ftjob", 8)

    async def claim_and_deliver(turn: int) -> list[int]:
        claimed = await store.claim_due_outbox(now=1e9, limit=3, lease=1e9)
        for item in claimed:
            await store.mark_sent(item.id, ts=f"{turn}.{item.id}", now=float(turn))
        return [item.id for item in claimed]

    async def audit(turn: int) -> None:
        await store.record_audit(
            AuditEntry(float(turn), f"U-{turn}", "C-1", "pause", job_ids[turn % 8], True)
        )

    pollers = [_poll_many_times(store, job_ids, seed=seed, times=15) for seed in range(12)]
    deliverers = [claim_and_deliver(turn) for turn in range(20)]
    watchers = [store.add_watch(job_ids[0], "C-LATE", user=f"U-{n}", now=1.0) for n in range(5)]
    deliveries = [store.remember_delivery(f"Ev-{n % 4}", now=1.0, ttl=60.0) for n in range(16)]
    polled, delivered, added, first_seen, _ = await asyncio.gather(
        asyncio.gather(*pollers),
        asyncio.gather(*deliverers),
        asyncio.gather(*watchers),
        asyncio.gather(*deliveries),
        asyncio.gather(*(audit(turn) for turn in range(30))),
    )

    changes: list[StatusChange] = [c for batch in polled for c in batch]
    claimed: list[int] = [i for batch in delivered for i in batch]
    assert len(claimed) == len(set(claimed))  # no row leased twice
    assert sum(added) == 1  # exactly one of the racing add_watch calls added the watch
    assert sum(first_seen) == 4  # each of the four delivery keys was new exactly once

    # Every change any task was told about is recorded, in sequence, with a note per channel it had.
    for job_id in job_ids:
        seqs = sorted(c.seq for c in changes if c.job_id == job_id)
        job = await store.get_job(job_id)
        assert job is not None
        assert seqs == list(range(1, job.status_seq + 1))
    audits = [await store.audit_for_job(job_id, limit=100) for job_id in job_ids]
    assert sum(len(entries) for entries in audits) == 30
    await store.remove_watch(
        job_ids[0], "C-LATE"
    )  # it joined mid-way; the invariants assume watchers from the start
    assert_database_consistent(store_path)


async def test_a_second_process_writing_at_the_same_time(store: SqliteStore, store_path: Path) -> None:
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(store_path),
        "--prefix",
        "proc",
        "--jobs",
        "6",
        "--iterations",
        "120",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    job_ids = await _track_jobs(store, "here", 6)
    ours = await asyncio.gather(*(_poll_many_times(store, job_ids, seed=seed, times=20) for seed in range(6)))
    out, err = await other.communicate()
    assert other.returncode == 0, err.decode()

    theirs = [line.split() for line in out.decode().splitlines() if line.startswith("committed ")]
    assert len(theirs) == 120
    jobs = assert_database_consistent(store_path)
    for _, job_id, seq, _status in theirs:
        assert jobs[job_id][0] >= int(seq)
    for change in (c for batch in ours for c in batch):
        assert jobs[change.job_id][0] >= change.seq
    assert set(jobs) == {*job_ids, *(f"proc-{n}" for n in range(6))}


async def test_cancelled_writers_leave_no_half_transaction_behind(
    store: SqliteStore, store_path: Path
) -> None:
    job_ids = await _track_jobs(store, "ftjob", 4)
    rng = random.Random(7)
    for round_number in range(10):
        tasks = [
            asyncio.create_task(_poll_many_times(store, job_ids, seed=round_number * 100 + n, times=5))
            for n in range(8)
        ]
        for _ in range(rng.randint(0, 12)):
            await asyncio.sleep(0)
        for task in rng.sample(tasks, 4):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # The connection is not stuck inside a transaction: plain writes and reads still work.
    change = await store.record_observation(job_ids[0], seen("succeeded"), now=99.0, next_poll_at=100.0)
    assert change is not None
    assert await store.remember_delivery("after-cancel", now=1.0, ttl=5.0)
    assert_database_consistent(store_path)
