"""Explicit write transactions on an autocommit aiosqlite connection."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosqlite


@asynccontextmanager
async def immediate_transaction(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """`BEGIN IMMEDIATE` … `COMMIT`, rolled back on any exception (cancellation included).

    IMMEDIATE takes the database's write lock up front (waiting up to the busy timeout), so a
    transaction never fails half-way because another process started writing after it read.

    aiosqlite runs a connection's statements one after another on its own thread, in the order they
    were queued. A statement is queued the moment it is awaited, so even when the awaiting task is
    cancelled the ROLLBACK below is queued behind everything this transaction already sent, and
    ahead of anything the next transaction sends.
    """
    try:
        await db.execute("BEGIN IMMEDIATE")
        yield db
        await db.execute("COMMIT")
    except BaseException:
        # Also reached when BEGIN failed (busy) or COMMIT did: then there may be nothing to roll back.
        with suppress(sqlite3.Error, ValueError):
            await db.execute("ROLLBACK")
        raise
