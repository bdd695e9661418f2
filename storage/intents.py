"""Create intents (recorded before the API call, closed once the job is tracked) and the health probe."""

from __future__ import annotations

import os

from bot.jobs.records import CreateIntent
from storage.connection import Connections, run


class IntentsAndHealth(Connections):
    """The intents part of `SqliteStore` (see `storage.store.Store` for each method)."""

    async def add_intent(self, intent: CreateIntent) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO create_intents (intent_id, user, channel, origin, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (intent.intent_id, intent.user, intent.channel, intent.origin, intent.created_at),
            )

    async def close_intent(self, intent_id: str, *, job_id: str | None, result: str, now: float) -> bool:
        async with self._write() as db:
            changed = await run(
                db,
                "UPDATE create_intents SET closed_at = ?, job_id = ?, result = ?"
                " WHERE intent_id = ? AND closed_at IS NULL",
                (now, job_id, result, intent_id),
            )
        return changed > 0

    async def open_intents(self, *, limit: int = 100) -> list[CreateIntent]:
        found = await self._read(
            "SELECT intent_id, user, channel, origin, created_at FROM create_intents"
            " WHERE closed_at IS NULL ORDER BY created_at LIMIT ?",
            (max(0, limit),),
        )
        return [
            CreateIntent(
                intent_id=str(row["intent_id"]),
                user=str(row["user"]),
                channel=str(row["channel"]),
                origin=str(row["origin"]),
                created_at=float(row["created_at"]),
            )
            for row in found
        ]

    async def check_writable(self, *, now: float) -> str | None:
        """None when a write commits and the file at our path is still the one we opened; else why not."""
        try:
            same = os.stat(self.path).st_ino == self.opened_inode
        except OSError as error:
            return f"the database file is gone ({error.strerror})"
        if not same:
            return "the database file was replaced since it was opened"
        try:
            async with self._write() as db:
                await db.execute("INSERT OR REPLACE INTO health_probe (id, at) VALUES (1, ?)", (now,))
        except Exception as error:
            return f"the database cannot be written ({error})"
        return None
