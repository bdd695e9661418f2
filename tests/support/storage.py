"""Storage fixtures: a migrated `SqliteStore` on a real database file in the test's tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.jobs.records import NewJob, Observation, Origin, Progress
from storage.sqlite import SqliteStore, open_store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where the test's database file lives (not created until a store is opened on it)."""
    return tmp_path / "tuneops.db"


@pytest.fixture
async def store(store_path: Path) -> AsyncIterator[SqliteStore]:
    """A migrated store on `store_path`, closed after the test."""
    opened = await open_store(store_path)
    try:
        yield opened
    finally:
        await opened.close()


def new_job(
    job_id: str = "ftjob-1",
    *,
    channel: str = "C-OWNER",
    creator: str | None = "U-CREATOR",
    status: str = "queued",
    origin: Origin = Origin.COMMAND,
    snapshot: dict[str, object] | None = None,
) -> NewJob:
    return NewJob(
        job_id=job_id,
        provider="openai",
        owner_channel=channel,
        creator=creator,
        origin=origin,
        status=status,
        model="gpt-4o-mini-2024-07-18",
        suffix="tuneops",
        snapshot=snapshot if snapshot is not None else {"id": job_id, "status": status},
    )


def seen(
    status: str,
    *,
    details: dict[str, object] | None = None,
    read_at: float = 0.0,
    final_read: bool = False,
    **progress: Any,
) -> Observation:
    """What a poll saw: `status`, the progress fields given (others None: keep stored), a matching snapshot.

    `read_at` is when the read was sent; left at 0 every read counts as sent at the same instant, so they
    are applied in the order they are recorded. `final_read`: the watcher's final read of a finished job.
    """
    return Observation(
        status=status,
        progress=Progress(**progress),
        snapshot={"status": status, **{key: value for key, value in progress.items() if value is not None}},
        details=details or {},
        read_at=read_at,
        final_read=final_read,
    )


def assert_database_consistent(path: Path) -> dict[str, tuple[int, str]]:
    """Check, straight from the file, what must hold however writers were interrupted.

    The file is intact; no outbox row is duplicated; every channel watching a job has exactly one
    status note per recorded transition (1..status_seq, the last one naming the job's status) and a
    "looks stuck" note for a noted sequence; delivered rows carry their Slack ts. Assumes the channels
    watched their jobs from the start and none was unwatched or marked unreachable.
    Returns {job id: (status_seq, status)}.
    """
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        total, distinct = db.execute(
            "SELECT count(*), count(DISTINCT job_id || char(31) || channel || char(31) || transition) FROM outbox"
        ).fetchone()
        assert total == distinct
        half_sent = db.execute(
            "SELECT count(*) FROM outbox WHERE state = 'sent' AND (slack_ts IS NULL OR sent_at IS NULL)"
        ).fetchone()
        assert half_sent == (0,)

        jobs = {
            job_id: (seq, status, stuck_seq)
            for job_id, seq, status, stuck_seq in db.execute(
                "SELECT job_id, status_seq, status, stuck_noted_seq FROM jobs"
            )
        }
        notes: dict[tuple[str, str], list[str]] = {}
        for job_id, channel, transition in db.execute("SELECT job_id, channel, transition FROM outbox"):
            notes.setdefault((job_id, channel), []).append(transition)
        for job_id, channel in db.execute("SELECT job_id, channel FROM watches"):
            seq, status, stuck_seq = jobs[job_id]
            transitions = notes.get((job_id, channel), [])
            status_notes = sorted(
                (int(t.split(":", 1)[0]), t.split(":", 1)[1])
                for t in transitions
                if not t.startswith(("stuck:", "chart:"))  # status notes only
            )
            assert [n for n, _ in status_notes] == list(range(1, seq + 1)), (job_id, channel)
            if seq:
                assert status_notes[-1][1] == status, (job_id, channel)
            if stuck_seq is not None:
                assert f"stuck:{stuck_seq}" in transitions, (job_id, channel)
    return {job_id: (seq, status) for job_id, (seq, status, _) in jobs.items()}
