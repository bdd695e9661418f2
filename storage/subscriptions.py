"""Subscriptions, the jobs discovery has seen, the filters of subscribed watches, channel settings, and the
audit log read by channel."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence

from bot.jobs.channel_settings import ChannelSettings
from bot.jobs.records import AuditEntry, TrackedJob
from bot.jobs.subscriptions import JobFilter, Subscription
from storage.connection import Connections, run
from storage.rows import AUDIT_FIELDS, JOB_COLUMNS, audit_from_row, encode_json, job_from_row

_AUDIT_COLUMNS = ", ".join(AUDIT_FIELDS)
_SUBSCRIPTION_COLUMNS = "id, channel, user, filter, created_at"
# SQLite's default limit on host parameters is 999 (older builds): ids are asked about in chunks.
_CHUNK = 500


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        channel=str(row["channel"]),
        user=str(row["user"]),
        created_at=float(row["created_at"]),
        filter=JobFilter.from_json(str(row["filter"])),
    )


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


class SubscriptionsAndSettings(Connections):
    """The subscriptions part of `SqliteStore` (see `storage.store.Store` for each method)."""

    # ---- subscriptions --------------------------------------------------------------------------------

    async def add_subscription(
        self, channel: str, *, user: str, job_filter: JobFilter, now: float
    ) -> Subscription:
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO subscriptions (channel, user, filter, created_at) VALUES (?, ?, ?, ?)",
                (channel, user, job_filter.to_json(), now),
            )
            new_id = cursor.lastrowid
        return Subscription(int(new_id or 0), channel, user, now, job_filter)

    async def channel_subscriptions(self, channel: str) -> list[Subscription]:
        found = await self._read(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE channel = ? ORDER BY created_at, id",
            (channel,),
        )
        return [_subscription(row) for row in found]

    async def all_subscriptions(self) -> list[Subscription]:
        found = await self._read(f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY created_at, id")
        return [_subscription(row) for row in found]

    async def remove_subscriptions(self, channel: str, ids: Collection[int]) -> int:
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        async with self._write() as db:
            return await run(
                db, f"DELETE FROM subscriptions WHERE channel = ? AND id IN ({marks})", (channel, *ids)
            )

    # ---- discovery ------------------------------------------------------------------------------------

    async def known_jobs(self, job_ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for chunk in _chunks(job_ids):
            marks = ", ".join("?" for _ in chunk)
            found = await self._read(
                f"SELECT job_id FROM seen_jobs WHERE job_id IN ({marks})",
                tuple(chunk),
            )
            known.update(str(row["job_id"]) for row in found)
        return known

    async def remember_seen(self, job_ids: Sequence[str], *, now: float) -> None:
        if not job_ids:
            return
        async with self._write() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO seen_jobs (job_id, seen_at) VALUES (?, ?)",
                [(job_id, now) for job_id in job_ids],
            )

    async def tracked_among(self, job_ids: Sequence[str]) -> list[TrackedJob]:
        tracked: list[TrackedJob] = []
        for chunk in _chunks(job_ids):
            marks = ", ".join("?" for _ in chunk)
            found = await self._read(
                f"""
                SELECT {JOB_COLUMNS} FROM jobs j
                WHERE j.job_id IN ({marks}) AND j.terminal = 0
                  AND EXISTS (SELECT 1 FROM watches w WHERE w.job_id = j.job_id)
                """,
                tuple(chunk),
            )
            tracked.extend(job_from_row(row) for row in found)
        return tracked

    async def follows_parked_jobs(self) -> bool:
        row = await self._read(
            """
            SELECT 1 FROM jobs j WHERE j.terminal = 0 AND j.status IN ('paused', 'pausing')
              AND EXISTS (SELECT 1 FROM watches w WHERE w.job_id = j.job_id)
            LIMIT 1
            """
        )
        return bool(row)

    # ---- what a subscribed channel hears ------------------------------------------------------------

    async def set_watch_filter(self, job_id: str, channel: str, told: frozenset[str] | None) -> None:
        text = ",".join(sorted(told)) if told is not None else None
        async with self._write() as db:
            await db.execute(
                """
                INSERT INTO watch_filters (job_id, channel, told) VALUES (?, ?, ?)
                ON CONFLICT (job_id, channel) DO UPDATE SET told = excluded.told
                """,
                (job_id, channel, text),
            )

    async def watch_filter(self, job_id: str, channel: str) -> frozenset[str] | None:
        found = await self._read(
            "SELECT told FROM watch_filters WHERE job_id = ? AND channel = ?", (job_id, channel)
        )
        if not found or found[0]["told"] is None:
            return None
        return frozenset(part for part in str(found[0]["told"]).split(",") if part)

    # ---- channel settings -----------------------------------------------------------------------------

    async def channel_settings(self, channel: str) -> ChannelSettings:
        found = await self._read("SELECT settings FROM channel_settings WHERE channel = ?", (channel,))
        return ChannelSettings.from_json(str(found[0]["settings"])) if found else ChannelSettings()

    async def save_channel_settings(
        self, channel: str, settings: ChannelSettings, *, user: str, now: float
    ) -> None:
        async with self._write() as db:
            await db.execute(
                """
                INSERT INTO channel_settings (channel, settings, updated_by, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (channel) DO UPDATE
                SET settings = excluded.settings, updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at
                """,
                (channel, settings.to_json(), user, now),
            )

    async def enqueue_progress(
        self, job_id: str, mark: int, *, choices: Sequence[str], payload: Mapping[str, object], now: float
    ) -> int:
        if not choices:
            return 0
        marks = ", ".join("?" for _ in choices)
        async with self._write() as db:
            return await run(
                db,
                f"""
                INSERT OR IGNORE INTO outbox
                    (job_id, channel, transition, kind, payload, next_attempt_at, created_at)
                SELECT w.job_id, w.channel, ?, 'progress', ?, ?, ?
                FROM watches w JOIN channel_settings cs ON cs.channel = w.channel
                WHERE w.job_id = ? AND json_extract(cs.settings, '$.progress') IN ({marks})
                """,
                (f"progress:{mark}", encode_json(payload), now, now, job_id, *choices),
            )

    # ---- the audit log by channel ---------------------------------------------------------------------

    async def audit_for_channel(self, channel: str | None, *, limit: int = 20) -> list[AuditEntry]:
        if channel is None:
            found = await self._read(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log ORDER BY at DESC, id DESC LIMIT ?", (max(0, limit),)
            )
        else:
            found = await self._read(
                f"""
                SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE channel = ?
                ORDER BY at DESC, id DESC LIMIT ?
                """,
                (channel, max(0, limit)),
            )
        return [audit_from_row(row) for row in found]
