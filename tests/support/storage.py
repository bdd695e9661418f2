"""Storage fixtures: a migrated `SqliteStore` on a real database file in the test's tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.records import NewJob, Observation, Origin, Progress
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


def seen(status: str, *, details: dict[str, object] | None = None, **progress: Any) -> Observation:
    """What a poll saw: `status`, the progress fields given (others None: keep stored), a matching snapshot."""
    return Observation(
        status=status,
        progress=Progress(**progress),
        snapshot={"status": status, **{key: value for key, value in progress.items() if value is not None}},
        details=details or {},
    )
