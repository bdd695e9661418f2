"""The two connections to the SQLite file, and the statements' small helpers.

One connection writes, one reads. Every write is one `BEGIN IMMEDIATE` transaction on the writer, behind
an asyncio.Lock: the connection runs one statement at a time, but without the lock two tasks' transactions
would interleave their statements (and one's ROLLBACK would undo the other's work). IMMEDIATE takes
SQLite's write lock up front, which also keeps another process on the same file out until COMMIT. Reads
go to the reader, so they never wait behind a write and only see committed data (WAL mode).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from storage.errors import DatabaseUnavailable
from storage.transactions import immediate_transaction

Synchronous = Literal["FULL", "NORMAL"]


async def connect(path: Path, *, busy_timeout: float) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; every transaction here is explicit.
    db = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
    db.row_factory = sqlite3.Row
    await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    return db


async def configure_writer(db: aiosqlite.Connection, synchronous: Synchronous) -> None:
    mode = await one(db, "PRAGMA journal_mode = WAL")  # persistent: stored in the file
    if mode is None or str(mode[0]).lower() != "wal":
        raise sqlite3.OperationalError("could not switch the database to WAL mode")
    await db.execute(f"PRAGMA synchronous = {synchronous}")
    await db.execute("PRAGMA foreign_keys = ON")


async def rows(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    return list(await db.execute_fetchall(sql, params))


async def one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    found = await rows(db, sql, params)
    return found[0] if found else None


async def run(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """Execute a write statement; return how many rows it changed."""
    async with db.execute(sql, params) as cursor:
        return cursor.rowcount


class Connections:
    """The writer and reader connections; the base every part of `SqliteStore` writes and reads through."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self.opened_inode = path.stat().st_ino  # health checks the file is still the one opened
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, never interleaved with another task's."""
        with unavailable_on_failure():
            async with self._write_lock, immediate_transaction(self._writer) as db:
                yield db

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with unavailable_on_failure():
            return await rows(self._reader, sql, params)


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """SQLite's errors leave storage as `DatabaseUnavailable`, so no caller needs to know the engine."""
    try:
        yield
    except sqlite3.Error as error:
        raise DatabaseUnavailable(str(error)) from error
