"""`Store` on one SQLite file, through aiosqlite: opening, migrating and closing it.

The methods come from one class per part of the schema (jobs and watches, the watcher's observations,
the outbox, audit and deliveries), all writing and reading through `storage.connection`'s two connections.
Durability: WAL with `synchronous=FULL` by default, so every COMMIT is fsynced before it returns. With
NORMAL a commit survives a killed process but may be lost on power failure: for the outbox, a note marked
sent, rolled back and sent again. Writes are few, so the fsync is worth it (`bench/bench_storage.py`).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from storage.audit import AuditAndDeliveries
from storage.connection import Synchronous, configure_writer, connect, one, unavailable_on_failure
from storage.intents import IntentsAndHealth
from storage.jobs import JobsAndWatches
from storage.migrations import apply_migrations
from storage.observations import Observations
from storage.outbox import Outbox
from storage.retirements import Retirements
from storage.schedules import Schedules
from storage.subscriptions import SubscriptionsAndSettings
from storage.webhooks import WebhookDeliveries

if TYPE_CHECKING:
    import aiosqlite

    from storage.store import Store


class SqliteStore(
    JobsAndWatches,
    Observations,
    Outbox,
    AuditAndDeliveries,
    IntentsAndHealth,
    SubscriptionsAndSettings,
    Schedules,
    WebhookDeliveries,
    Retirements,
):
    """The `storage.store.Store` protocol on one SQLite file. Build it with `open` or `open_store`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        super().__init__(path, writer, reader)
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 10.0,
        synchronous: Synchronous = "FULL",
    ) -> SqliteStore:
        """Connect to the database file (created, with its directory, if missing). Does not migrate."""
        file = Path(path)
        if str(path) in ("", ":memory:"):
            raise ValueError("SqliteStore needs a database file, not an in-memory database")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        file.parent.mkdir(parents=True, exist_ok=True)
        with unavailable_on_failure():
            writer = await connect(file, busy_timeout=busy_timeout)
            try:
                await configure_writer(writer, synchronous)
                reader = await connect(file, busy_timeout=busy_timeout)
                await reader.execute("PRAGMA query_only = ON")
            except BaseException:
                await writer.close()
                raise
        return cls(file, writer, reader)

    async def migrate(self) -> int:
        async with self._write_lock:
            with unavailable_on_failure():
                return await apply_migrations(self._writer)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:
            # Lets SQLite refresh its planner statistics where they went stale; cheap.
            with suppress(sqlite3.Error):
                await self._writer.execute("PRAGMA optimize")
            await self._writer.close()
        await self._reader.close()

    async def ping(self) -> bool:
        try:
            row = await one(self._reader, "SELECT 1")
        except (sqlite3.Error, ValueError):
            return False
        return row is not None and row[0] == 1


async def open_store(
    path: str | os.PathLike[str], *, busy_timeout: float = 10.0, synchronous: Synchronous = "FULL"
) -> SqliteStore:
    """Open the database file and bring its schema up to date (what `tuneops run` and `migrate` use)."""
    store = await SqliteStore.open(path, busy_timeout=busy_timeout, synchronous=synchronous)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store


if TYPE_CHECKING:
    # mypy checks here that SqliteStore really is a Store.
    def _is_a_store(store: SqliteStore) -> Store:
        return store


__all__ = ["SqliteStore", "open_store"]
