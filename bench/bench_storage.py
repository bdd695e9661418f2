"""Storage latency at scale: the hot queries and writes of `SqliteStore` on a big database file.

    python bench/bench_storage.py [--jobs 100000] [--audit 1000000] [--samples 300] [--keep PATH]
    python bench/bench_storage.py --quick          (small smoke run)

Seeds a fresh file (schema from the product's own migrations; rows bulk-inserted with plain sqlite3,
since seeding is not what is measured), then times the product's `SqliteStore` methods one call at a
time, as the service makes them: through aiosqlite, from the event loop. Writes are measured with the
product's default `synchronous=FULL` (fsync per commit) and again with NORMAL for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.records import AuditEntry, NewJob, Observation, Origin, Progress
from storage.sqlite import SqliteStore, open_store

NOW = 1_750_000_000.0
CHANNELS = 300
USERS = 150
# A long-lived deployment: most jobs have finished, a fifth are still moving.
STATUS_MIX = (
    ("succeeded", 0.60),
    ("failed", 0.12),
    ("cancelled", 0.08),
    ("running", 0.12),
    ("queued", 0.04),
    ("validating_files", 0.02),
    ("paused", 0.02),
)
ACTIVE = {"running", "queued", "validating_files", "paused"}


# seeding ------------------------------------------------------------------------------------------
def _statuses(rng: random.Random, count: int) -> list[str]:
    names = [name for name, _ in STATUS_MIX]
    weights = [weight for _, weight in STATUS_MIX]
    return rng.choices(names, weights, k=count)


def _batches(rows: Iterator[tuple[object, ...]], size: int = 50_000) -> Iterator[list[tuple[object, ...]]]:
    batch: list[tuple[object, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(db: sqlite3.Connection, sql: str, rows: Iterator[tuple[object, ...]]) -> int:
    count = 0
    for batch in _batches(rows):
        db.execute("BEGIN")
        db.executemany(sql, batch)
        db.execute("COMMIT")
        count += len(batch)
    return count


def seed(path: Path, *, jobs: int, audit: int, pending: int, rng: random.Random) -> dict[str, int]:
    statuses = _statuses(rng, jobs)
    job_ids = [f"ftjob-{n:07d}" for n in range(jobs)]
    owners = [f"C{rng.randrange(CHANNELS):05d}" for _ in range(jobs)]
    snapshot = json.dumps(
        {"object": "fine_tuning.job", "model": "gpt-4o-mini-2024-07-18", "trained_tokens": 12345}
    )

    def job_rows() -> Iterator[tuple[object, ...]]:
        for n, job_id in enumerate(job_ids):
            status = statuses[n]
            created = NOW - (jobs - n) * 60.0  # one job a minute
            next_poll = NOW + rng.uniform(-5.0, 30.0) if status in ACTIVE else created + 3600.0
            yield (
                job_id, "openai", owners[n], f"U{rng.randrange(USERS):04d}", "command", status,
                int(status not in ACTIVE), 3, "gpt-4o-mini-2024-07-18", "bench", f"ev-{n}", created,
                rng.randrange(1000), 1000, rng.random(), rng.random(), int(created + 7200), 7, next_poll,
                snapshot, created, created,
            )  # fmt: skip

    def watch_rows() -> Iterator[tuple[object, ...]]:
        for n, job_id in enumerate(job_ids):
            created = NOW - (jobs - n) * 60.0
            stale = int(rng.random() < 0.01)
            yield (job_id, owners[n], None, 1, f"{created:.6f}", 7 - stale, created, stale, created)
            if rng.random() < 0.2:  # a fifth of the jobs are also watched from a second channel
                other = f"C{rng.randrange(CHANNELS):05d}"
                if other != owners[n]:
                    yield (job_id, other, "U0001", 0, f"{created + 1:.6f}", 7, created, 0, created + 1)

    def outbox_rows() -> Iterator[tuple[object, ...]]:
        # Three delivered notes per job, then `pending` due notes on distinct active jobs.
        for n, job_id in enumerate(job_ids):
            created = NOW - (jobs - n) * 60.0
            for seq, status in enumerate(("validating_files", "running", statuses[n]), start=1):
                yield (
                    job_id,
                    owners[n],
                    f"{seq}:{status}",
                    "status",
                    "{}",
                    "sent",
                    1,
                    created,
                    "1.1",
                    created,
                )
        # A backlog (Slack was down for a while): one due note per active job and channel.
        active = [n for n in range(jobs) if statuses[n] in ACTIVE]
        for k in range(pending):
            n = active[k % len(active)]
            channel = owners[n] if k < len(active) else f"CX{k // len(active)}"
            yield (job_ids[n], channel, f"4:{statuses[n]}", "status", "{}", "pending", 0, NOW - 1.0, None, NOW - 1)  # fmt: skip

    def audit_rows() -> Iterator[tuple[object, ...]]:
        actions = ("create", "pause", "resume", "cancel", "status", "watch")
        for n in range(audit):
            job = job_ids[rng.randrange(jobs)]
            allowed = rng.random() < 0.9
            yield (
                NOW - (audit - n) * 0.5, f"U{rng.randrange(USERS):04d}", f"C{rng.randrange(CHANNELS):05d}",
                rng.choice(actions), job, int(allowed), None if allowed else "not the creator", "ok",
            )  # fmt: skip

    counts: dict[str, int] = {}
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA synchronous = OFF")  # seeding only
        counts["jobs"] = _insert(
            db,
            "INSERT INTO jobs (job_id, provider, owner_channel, creator, origin, status, terminal, status_seq,"
            " model, suffix, last_event_id, last_event_at, step, total_steps, train_loss, valid_loss,"
            " estimated_finish, version, next_poll_at, snapshot, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            job_rows(),
        )
        counts["watches"] = _insert(
            db,
            "INSERT INTO watches (job_id, channel, added_by, is_owner, card_ts, card_version, card_updated_at,"
            " card_stale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            watch_rows(),
        )
        counts["outbox"] = _insert(
            db,
            "INSERT INTO outbox (job_id, channel, transition, kind, payload, state, attempts, next_attempt_at,"
            " slack_ts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            outbox_rows(),
        )
        counts["audit"] = _insert(
            db,
            "INSERT INTO audit_log (at, user_id, channel, action, job_id, allowed, reason, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            audit_rows(),
        )
        counts["seen_deliveries"] = _insert(
            db,
            "INSERT INTO seen_deliveries (key, expires_at) VALUES (?, ?)",
            ((f"Ev{n:08d}", NOW + rng.uniform(0, 600)) for n in range(50_000)),
        )
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


# measuring ----------------------------------------------------------------------------------------
async def _time(samples: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    await call(-1)  # warm the statement cache
    timings = []
    for n in range(samples):
        started = time.perf_counter()
        await call(n)
        timings.append((time.perf_counter() - started) * 1000.0)
    return timings


def _row(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"| {name:<44} | {len(ordered):>5} | {statistics.median(ordered):>9.3f} | {p99:>9.3f} | {ordered[-1]:>9.3f} |"


def _header(title: str) -> list[str]:
    return [
        "",
        title,
        f"| {'operation':<44} | {'n':>5} | {'median ms':>9} | {'p99 ms':>9} | {'max ms':>9} |",
        f"|{'-' * 46}|{'-' * 7}|{'-' * 11}|{'-' * 11}|{'-' * 11}|",
    ]


async def measure_reads(store: SqliteStore, *, jobs: int, samples: int, rng: random.Random) -> list[str]:
    def job_id() -> str:
        return f"ftjob-{rng.randrange(jobs):07d}"

    def channel() -> str:
        return f"C{rng.randrange(CHANNELS):05d}"

    cases: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
        ("get_job", lambda _: store.get_job(job_id())),
        ("due_jobs(limit=50)", lambda _: store.due_jobs(now=NOW, limit=50)),
        ("channel_jobs(limit=20)", lambda _: store.channel_jobs(channel())),
        ("channel_jobs(active_only, limit=20)", lambda _: store.channel_jobs(channel(), active_only=True)),
        (
            "channel_jobs(active_only, creator, limit=20)",
            lambda _: store.channel_jobs(channel(), active_only=True, creator=f"U{rng.randrange(USERS):04d}"),
        ),
        ("audit_for_job(limit=50)", lambda _: store.audit_for_job(job_id())),
        ("watches", lambda _: store.watches(job_id())),
        ("cards_to_refresh(limit=20)", lambda _: store.cards_to_refresh(now=NOW, min_interval=1.0, limit=20)),
        ("outbox_stats", lambda _: store.outbox_stats(now=NOW)),
        ("ping", lambda _: store.ping()),
    ]
    lines = _header("reads")
    for name, call in cases:
        lines.append(_row(name, await _time(samples, call)))
    return lines


async def measure_writes(
    store: SqliteStore, *, jobs: int, samples: int, rng: random.Random, title: str
) -> list[str]:
    active = [job.job_id for job in await store.due_jobs(now=NOW + 3600, limit=samples * 4)]
    claimed: list[int] = []

    async def claim(_: int) -> None:
        claimed.extend(item.id for item in await store.claim_due_outbox(now=NOW, limit=10, lease=60.0))

    async def mark_sent(n: int) -> None:
        if claimed:
            await store.mark_sent(claimed.pop(), ts=f"{NOW + n:.6f}", now=NOW)

    async def status_change(n: int) -> None:
        job = active[n % len(active)]
        await store.record_observation(
            job,
            Observation(f"bench_{n}", Progress(step=n), {"status": f"bench_{n}"}, read_at=NOW),
            now=NOW,
            next_poll_at=NOW + 30,
        )

    async def progress_only(n: int) -> None:
        job = active[(n + samples) % len(active)]
        current = await store.get_job(job)
        assert current is not None
        await store.record_observation(
            job,
            Observation(current.status, Progress(step=10_000 + n), current.snapshot, read_at=NOW),
            now=NOW,
            next_poll_at=NOW + 30,
        )

    async def audit(n: int) -> None:
        job = f"ftjob-{rng.randrange(jobs):07d}"
        await store.record_audit(AuditEntry(NOW + n, "U0001", "C00001", "pause", job, True, None, "ok"))

    async def delivery(n: int) -> None:
        await store.remember_delivery(f"bench-{title}-{n}-{rng.random()}", now=NOW, ttl=600.0)

    async def track(n: int) -> None:
        job = NewJob(
            f"ftjob-new-{title}-{n}", "openai", "C00001", "U0001", Origin.COMMAND, "validating_files"
        )
        await store.track_job(job, now=NOW)

    cases: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
        ("claim_due_outbox(limit=10)", claim),
        ("mark_sent", mark_sent),
        ("record_observation (status change + notes)", status_change),
        ("record_observation (progress only)", progress_only),
        ("record_audit", audit),
        ("remember_delivery", delivery),
        ("track_job", track),
    ]
    lines = _header(title)
    for name, call in cases:
        lines.append(_row(name, await _time(samples, call)))
    return lines


def query_plans(path: Path) -> list[str]:
    """How SQLite answers the hot queries: each should use its index, never scan a big table."""
    plans = {
        "due_jobs": "SELECT * FROM jobs j WHERE j.terminal = 0 AND j.next_poll_at <= 1"
        " AND EXISTS (SELECT 1 FROM watches w WHERE w.job_id = j.job_id) ORDER BY j.next_poll_at LIMIT 50",
        "channel_jobs": "SELECT * FROM watches w JOIN jobs j ON j.job_id = w.job_id WHERE w.channel = 'C1'"
        " ORDER BY w.created_at DESC, w.job_id DESC LIMIT 20",
        "audit_for_job": "SELECT * FROM audit_log WHERE job_id = 'x' ORDER BY at DESC, id DESC LIMIT 50",
        "claim_due_outbox": "SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= 1"
        " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.job_id = o.job_id AND e.channel = o.channel"
        " AND e.state = 'pending' AND e.id < o.id) ORDER BY o.next_attempt_at, o.id LIMIT 10",
        "cards_to_refresh": "SELECT * FROM watches w JOIN jobs j ON j.job_id = w.job_id WHERE w.card_stale = 1"
        " AND w.card_updated_at <= 1 AND w.card_ts IS NOT NULL AND w.card_version < j.version"
        " ORDER BY w.card_updated_at LIMIT 20",
    }
    lines = ["", "query plans"]
    with closing(sqlite3.connect(path)) as db:
        for name, sql in plans.items():
            steps = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}")]
            lines.append(f"  {name}: {'; '.join(steps)}")
    return lines


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "bench.db"
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        store = await open_store(path)  # the product's migrations make the schema
        await store.close()

        started = time.perf_counter()
        counts = seed(path, jobs=args.jobs, audit=args.audit, pending=args.samples * 25, rng=rng)
        seeded = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
        print(
            f"seeded in {seeded:.1f} s: "
            + ", ".join(f"{count:,} {table}" for table, count in counts.items())
            + f"; file {size_mb:.0f} MB"
        )

        lines: list[str] = []
        store = await SqliteStore.open(path, synchronous="FULL")
        try:
            lines += await measure_reads(store, jobs=args.jobs, samples=args.samples, rng=rng)
            lines += await measure_writes(
                store,
                jobs=args.jobs,
                samples=args.samples,
                rng=rng,
                title="writes, synchronous=FULL (default)",
            )
        finally:
            await store.close()
        store = await SqliteStore.open(path, synchronous="NORMAL")
        try:
            lines += await measure_writes(
                store, jobs=args.jobs, samples=args.samples, rng=rng, title="writes, synchronous=NORMAL"
            )
        finally:
            await store.close()
        lines += query_plans(path)
        print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300, help="timed calls per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="build the database at this path and leave it there")
    parser.add_argument("--quick", action="store_true", help="2,000 jobs, 20,000 audit rows, 40 samples")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.audit, args.samples = 2_000, 20_000, 40
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
