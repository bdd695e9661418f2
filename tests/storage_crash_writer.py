"""A second process writing to a TuneOps database: the storage crash drill kills it at random points.

    python tests/storage_crash_writer.py DB --seed N [--prefix w] [--jobs 12] [--iterations K]

It tracks `--jobs` jobs (each owned by one of three channels and also watched by C-SHARED), prints
`ready`, then records status changes for random jobs, interleaved with the notifier's and the handlers'
writes (claiming and marking outbox rows, "looks stuck" notes, audit entries, delivery keys). After each
status change commits it prints `committed <job> <seq> <status>` and flushes, so whatever the parent
read was committed. Without `--iterations` it runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from bot.jobs.records import AuditEntry, NewJob, Observation, Origin, Progress
from storage.sqlite import SqliteStore, open_store

STATUSES = ("queued", "validating_files", "running", "pausing", "paused", "resuming")
SHARED_CHANNEL = "C-SHARED"


def owner_channel(n: int) -> str:
    return f"C-{n % 3}"


async def _track(store: SqliteStore, prefix: str, jobs: int) -> list[str]:
    job_ids = [f"{prefix}-{n}" for n in range(jobs)]
    for n, job_id in enumerate(job_ids):
        job = NewJob(job_id, "openai", owner_channel(n), "U-WRITER", Origin.COMMAND, "queued")
        await store.track_job(job, now=time.time())
        await store.add_watch(job_id, SHARED_CHANNEL, user="U-WRITER", now=time.time())
    return job_ids


async def _deliver_some(store: SqliteStore, rng: random.Random) -> None:
    now = time.time()
    for item in await store.claim_due_outbox(now=now, limit=4, lease=30.0):
        if rng.random() < 0.7:
            await store.mark_sent(item.id, ts=f"{now:.6f}", now=now)
        else:
            await store.mark_retry(item.id, error="ratelimited", next_attempt_at=now)


async def run(db: str, *, seed: int, prefix: str, jobs: int, iterations: int | None) -> None:
    rng = random.Random(seed)
    store = await open_store(db)
    try:
        job_ids = await _track(store, prefix, jobs)
        print("ready", flush=True)
        done = 0
        while iterations is None or done < iterations:
            done += 1
            job_id = rng.choice(job_ids)
            read_at = time.time()  # as if the job were read from the API now
            job = await store.get_job(job_id)
            assert job is not None
            status = rng.choice([s for s in STATUSES if s != job.status])
            observation = Observation(
                status=status,
                progress=Progress(step=done, total_steps=10_000),
                snapshot={"id": job_id, "status": status},
                details={"writer": prefix},
                read_at=read_at,
            )
            now = time.time()
            change = await store.record_observation(job_id, observation, now=now, next_poll_at=now + 30)
            assert change is not None
            print(f"committed {job_id} {change.seq} {status}", flush=True)
            if done % 3 == 0:
                await _deliver_some(store, rng)
            if done % 7 == 0:
                await store.note_stuck(rng.choice(job_ids), now=now)
            if done % 4 == 0:
                await store.record_audit(AuditEntry(now, "U-WRITER", owner_channel(0), "pause", job_id, True))
                await store.remember_delivery(f"{prefix}-{seed}-{done}", now=now, ttl=600.0)
    finally:
        await store.close()  # aiosqlite's threads would otherwise keep the process alive


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefix", default="w")
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(run(args.db, seed=args.seed, prefix=args.prefix, jobs=args.jobs, iterations=args.iterations))


if __name__ == "__main__":
    main()
