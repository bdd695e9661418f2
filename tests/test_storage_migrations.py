"""Schema migrations on real database files: from empty, re-run, reopened, raced, failed, too new."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import aiosqlite
import pytest

from storage.errors import SchemaTooNewError
from storage.migrations import MIGRATIONS, Migration, apply_migrations
from storage.sqlite import SqliteStore, open_store
from tests.support.storage import new_job

REPO = Path(__file__).resolve().parents[1]
TABLES = {
    "jobs",
    "watches",
    "unreachable_channels",
    "outbox",
    "audit_log",
    "seen_deliveries",
    "schema_version",
}


def _raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def test_migrating_an_empty_file_creates_every_table_in_wal_mode(store_path: Path) -> None:
    store = await open_store(store_path)
    await store.close()
    tables = {name for (name,) in _raw(store_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables >= TABLES
    assert _raw(store_path, "PRAGMA journal_mode") == [("wal",)]
    versions = _raw(store_path, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(m.version,) for m in MIGRATIONS]


async def test_migrate_re_run_and_reopen_keep_the_schema_and_the_data(store_path: Path) -> None:
    store = await open_store(store_path)
    await store.track_job(new_job("ftjob-keep"), now=1.0)
    assert await store.migrate() == len(MIGRATIONS)
    assert await store.migrate() == len(MIGRATIONS)
    await store.close()

    reopened = await open_store(store_path)
    try:
        assert await reopened.migrate() == len(MIGRATIONS)
        job = await reopened.get_job("ftjob-keep")
        assert job is not None
        assert job.status == "queued"
    finally:
        await reopened.close()
    assert _raw(store_path, "SELECT count(*) FROM schema_version") == [(len(MIGRATIONS),)]


async def test_processes_starting_at_once_apply_each_migration_once(store_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from storage.sqlite import open_store\n"
        "async def main():\n"
        "    store = await open_store(sys.argv[1])\n"
        "    print(await store.migrate())\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, str(store_path), cwd=REPO, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    in_process = await open_store(store_path)
    await in_process.close()
    outputs = [await process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0]
    assert [out.decode().strip() for out, _ in outputs] == [str(len(MIGRATIONS))] * 3
    assert _raw(store_path, "SELECT count(*) FROM schema_version") == [(len(MIGRATIONS),)]


async def test_a_failing_migration_leaves_nothing_behind_and_a_fixed_one_applies(store_path: Path) -> None:
    store = await SqliteStore.open(store_path)
    await store.close()
    next_version = len(MIGRATIONS) + 1
    broken = Migration(
        next_version, "half a migration", ("CREATE TABLE extra (x TEXT)", "SELECT * FROM no_such_table")
    )
    fixed = Migration(next_version, "extra table", ("CREATE TABLE extra (x TEXT)",))

    async with aiosqlite.connect(store_path, isolation_level=None) as db:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await apply_migrations(db, (*MIGRATIONS, broken))
        assert not db.in_transaction
        assert await apply_migrations(db, MIGRATIONS) == len(MIGRATIONS)
        assert await apply_migrations(db, (*MIGRATIONS, fixed)) == next_version

    names = {name for (name,) in _raw(store_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "extra" in names
    assert _raw(store_path, "SELECT version, name FROM schema_version ORDER BY version") == [
        *((m.version, m.name) for m in MIGRATIONS),
        (next_version, "extra table"),
    ]


async def test_a_database_from_a_newer_version_is_refused(store_path: Path) -> None:
    store = await open_store(store_path)
    await store.close()
    with sqlite3.connect(store_path) as db:
        db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)")
    with pytest.raises(SchemaTooNewError, match="99"):
        await open_store(store_path)


async def test_migrations_must_be_numbered_in_order(store_path: Path) -> None:
    skipping = (*MIGRATIONS, Migration(len(MIGRATIONS) + 2, "gap", ("SELECT 1",)))
    async with aiosqlite.connect(store_path, isolation_level=None) as db:
        with pytest.raises(ValueError, match="numbered"):
            await apply_migrations(db, skipping)


async def test_open_creates_missing_directories_and_refuses_memory_databases(tmp_path: Path) -> None:
    nested = tmp_path / "state" / "deeper" / "tuneops.db"
    store = await open_store(nested)
    try:
        assert await store.ping()
    finally:
        await store.close()
    assert nested.exists()
    with pytest.raises(ValueError, match="file"):
        await SqliteStore.open(":memory:")


async def test_upgrading_keeps_finished_jobs_unpolled_and_the_active_ones_due(store_path: Path) -> None:
    # A database as the previous version left it: one job still running, one finished long ago.
    async with aiosqlite.connect(store_path, isolation_level=None) as db:
        assert await apply_migrations(db, MIGRATIONS[:2]) == 2
        for job_id, status, terminal in (("ftjob-running", "running", 0), ("ftjob-finished", "succeeded", 1)):
            await db.execute(
                """
                INSERT INTO jobs (job_id, provider, owner_channel, origin, status, terminal, next_poll_at,
                                  created_at, updated_at)
                VALUES (?, 'openai', 'C-OWNER', 'command', ?, ?, 1.0, 1.0, 1.0)
                """,
                (job_id, status, terminal),
            )
            await db.execute(
                "INSERT INTO watches (job_id, channel, is_owner, created_at) VALUES (?, 'C-OWNER', 1, 1.0)",
                (job_id,),
            )

    store = await open_store(store_path)
    try:
        assert [job.job_id for job in await store.due_jobs(now=10.0, limit=10)] == ["ftjob-running"]
    finally:
        await store.close()
    (index,) = _raw(store_path, "SELECT sql FROM sqlite_master WHERE name = 'jobs_due'")
    assert "final_read_due = 1" in str(index[0])


async def test_upgrading_marks_the_rows_the_previous_version_had_in_flight(store_path: Path) -> None:
    # A database as the previous version left it: rows never claimed, claimed, retried, retried and
    # claimed again, sent.
    async with aiosqlite.connect(store_path, isolation_level=None) as db:
        assert await apply_migrations(db, MIGRATIONS[:3]) == 3
        await db.execute(
            """
            INSERT INTO jobs (job_id, provider, owner_channel, origin, status, next_poll_at, created_at,
                              updated_at)
            VALUES ('ftjob-1', 'openai', 'C-OWNER', 'command', 'running', 1.0, 1.0, 1.0)
            """
        )
        await db.execute(
            "INSERT INTO watches (job_id, channel, is_owner, created_at) VALUES ('ftjob-1', 'C-OWNER', 1, 1.0)"
        )
        for channel, state, attempts, last_error in (
            ("C-NEW", "pending", 0, None),
            ("C-FLYING", "pending", 1, None),
            ("C-WAITING", "pending", 1, "ratelimited"),
            ("C-AGAIN", "pending", 2, "ratelimited"),
            ("C-SENT", "sent", 1, None),
        ):
            await db.execute(
                """
                INSERT INTO outbox (job_id, channel, transition, kind, state, attempts, last_error,
                                    next_attempt_at, created_at)
                VALUES ('ftjob-1', ?, '1:running', 'status', ?, ?, ?, 90.0, 1.0)
                """,
                (channel, state, attempts, last_error),
            )

    store = await open_store(store_path)
    try:
        taken = await store.claim_in_flight(now=10.0, limit=10, lease=30.0)
        # Only the row claimed and never retried is known to have been in flight.
        assert [(i.channel, i.attempts, i.next_attempt_at) for i in taken] == [("C-FLYING", 2, 40.0)]
    finally:
        await store.close()
    (index,) = _raw(store_path, "SELECT sql FROM sqlite_master WHERE name = 'outbox_in_flight'")
    assert "claimed_at IS NOT NULL" in str(index[0])
