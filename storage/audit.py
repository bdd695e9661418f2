"""The audit log of who did what from Slack, and the keys of the Slack deliveries already handled."""

from __future__ import annotations

from bot.jobs.records import AuditEntry
from storage.connection import Connections, run
from storage.rows import AUDIT_FIELDS, audit_from_row

_AUDIT_COLUMNS = ", ".join(AUDIT_FIELDS)
_PRUNE_DELIVERIES_EVERY = 60.0  # seconds between sweeps of expired delivery keys


class AuditAndDeliveries(Connections):
    """The audit and delivery part of `SqliteStore` (see `storage.store.Store` for each method)."""

    _next_delivery_prune = float("-inf")  # when `remember_delivery` next sweeps expired keys

    async def record_audit(self, entry: AuditEntry) -> None:
        async with self._write() as db:
            await db.execute(
                f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.at,
                    entry.user,
                    entry.channel,
                    entry.action,
                    entry.job_id,
                    int(entry.allowed),
                    entry.reason,
                    entry.result,
                ),
            )

    async def audit_for_job(self, job_id: str, *, limit: int = 50) -> list[AuditEntry]:
        found = await self._read(
            f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE job_id = ? ORDER BY at DESC, id DESC LIMIT ?",
            (job_id, max(0, limit)),
        )
        return [audit_from_row(row) for row in found]

    async def remember_delivery(self, key: str, *, now: float, ttl: float) -> bool:
        async with self._write() as db:
            # Inserted, or an expired key taken over: first time. Left alone (a live key): a repeat.
            first = (
                await run(
                    db,
                    """
                    INSERT INTO seen_deliveries (key, expires_at) VALUES (?, ?)
                    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
                    WHERE seen_deliveries.expires_at <= ?
                    """,
                    (key, now + ttl, now),
                )
                == 1
            )
            if now >= self._next_delivery_prune:
                self._next_delivery_prune = now + _PRUNE_DELIVERIES_EVERY
                await db.execute("DELETE FROM seen_deliveries WHERE expires_at <= ?", (now,))
        return first
