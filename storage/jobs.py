"""Tracked jobs, the channels watching them, and the job cards posted in those channels."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.finetune.models import TERMINAL_STATUSES
from bot.jobs.observation_rules import final_read_due_when_tracked
from bot.jobs.records import CardToRefresh, NewJob, TrackedJob, Watch
from storage.connection import Connections, one, run
from storage.errors import JobNotTrackedError
from storage.outbox import REACHABLE
from storage.rows import (
    JOB_COLUMNS,
    WATCH_COLUMNS,
    WATCH_FIELDS,
    columns,
    encode_json,
    job_from_row,
    watch_from_row,
)


class JobsAndWatches(Connections):
    """The jobs and watches part of `SqliteStore` (see `storage.store.Store` for what each method does)."""

    async def track_job(
        self, job: NewJob, *, now: float, next_poll_at: float | None = None, owner_watch: bool = True
    ) -> tuple[TrackedJob, bool]:
        snapshot = encode_json(job.snapshot)
        async with self._write() as db:
            created = (
                await run(
                    db,
                    """
                    INSERT INTO jobs (job_id, provider, owner_channel, creator, origin, status, terminal,
                                      final_read_due, model, suffix, next_poll_at, snapshot, read_at,
                                      created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (job_id) DO NOTHING
                    """,
                    (
                        job.job_id,
                        job.provider,
                        job.owner_channel,
                        job.creator,
                        job.origin.value,
                        job.status,
                        int(job.status in TERMINAL_STATUSES),
                        int(final_read_due_when_tracked(job.status)),
                        job.model,
                        job.suffix,
                        now if next_poll_at is None else next_poll_at,
                        snapshot,
                        job.read_at,
                        now,
                        now,
                    ),
                )
                == 1
            )
            if created and owner_watch:
                await db.execute(
                    """
                    INSERT INTO watches (job_id, channel, added_by, is_owner, created_at)
                    VALUES (?, ?, ?, 1, ?)
                    """,
                    (job.job_id, job.owner_channel, job.creator, now),
                )
            if created:
                # Someone just created a job from this channel: it is in use again.
                await db.execute("DELETE FROM unreachable_channels WHERE channel = ?", (job.owner_channel,))
            row = await one(db, f"SELECT {JOB_COLUMNS} FROM jobs j WHERE j.job_id = ?", (job.job_id,))
        if row is None:  # the row was inserted or already there, inside the same transaction
            raise JobNotTrackedError(job.job_id)
        return job_from_row(row), created

    async def get_job(self, job_id: str) -> TrackedJob | None:
        rows = await self._read(f"SELECT {JOB_COLUMNS} FROM jobs j WHERE j.job_id = ?", (job_id,))
        return job_from_row(rows[0]) if rows else None

    async def add_watch(
        self, job_id: str, channel: str, *, user: str | None, now: float, owner: bool = False
    ) -> bool:
        async with self._write() as db:
            if await one(db, "SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)) is None:
                raise JobNotTrackedError(job_id)
            added = await run(
                db,
                """
                INSERT INTO watches (job_id, channel, added_by, is_owner, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (job_id, channel) DO NOTHING
                """,
                (job_id, channel, user, int(owner), now),
            )
            await db.execute("DELETE FROM unreachable_channels WHERE channel = ?", (channel,))
        return added == 1

    async def remove_watch(self, job_id: str, channel: str) -> bool:
        async with self._write() as db:
            await db.execute(
                "DELETE FROM outbox WHERE job_id = ? AND channel = ? AND state = 'pending'", (job_id, channel)
            )
            removed = await run(db, "DELETE FROM watches WHERE job_id = ? AND channel = ?", (job_id, channel))
            await db.execute("DELETE FROM watch_filters WHERE job_id = ? AND channel = ?", (job_id, channel))
        return removed == 1

    async def get_watch(self, job_id: str, channel: str) -> Watch | None:
        rows = await self._read(
            f"SELECT {WATCH_COLUMNS} FROM watches w WHERE w.job_id = ? AND w.channel = ?", (job_id, channel)
        )
        return watch_from_row(rows[0]) if rows else None

    async def card_at(self, channel: str, ts: str) -> Watch | None:
        rows = await self._read(
            f"SELECT {WATCH_COLUMNS} FROM watches w WHERE w.channel = ? AND w.card_ts = ?", (channel, ts)
        )
        return watch_from_row(rows[0]) if rows else None

    async def watches(self, job_id: str) -> list[Watch]:
        rows = await self._read(
            f"""
            SELECT {WATCH_COLUMNS} FROM watches w WHERE w.job_id = ?
            ORDER BY w.is_owner DESC, w.created_at, w.channel
            """,
            (job_id,),
        )
        return [watch_from_row(row) for row in rows]

    async def channel_jobs(
        self,
        channel: str,
        *,
        active_only: bool = False,
        creator: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[TrackedJob]:
        conditions = ["w.channel = ?"]
        params: list[Any] = [channel]
        if active_only:
            conditions.append("j.terminal = 0")
        if creator is not None:
            conditions.append("j.creator = ?")
            params.append(creator)
        rows = await self._read(
            f"""
            SELECT {JOB_COLUMNS} FROM watches w JOIN jobs j ON j.job_id = w.job_id
            WHERE {" AND ".join(conditions)}
            ORDER BY w.created_at DESC, w.job_id DESC
            LIMIT ? OFFSET ?
            """,
            (*params, max(0, limit), max(0, offset)),
        )
        return [job_from_row(row) for row in rows]

    async def set_card(self, job_id: str, channel: str, *, ts: str, version: int, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                """
                UPDATE watches
                SET card_ts = ?, card_version = ?, card_updated_at = ?,
                    card_stale = (? < (SELECT version FROM jobs WHERE jobs.job_id = watches.job_id))
                WHERE job_id = ? AND channel = ?
                """,
                (ts, version, now, version, job_id, channel),
            )

    async def cards_to_refresh(self, *, now: float, min_interval: float, limit: int) -> list[CardToRefresh]:
        rows = await self._read(
            f"""
            SELECT {columns(WATCH_FIELDS, table="w", prefix="w_")}, {JOB_COLUMNS}
            FROM watches w JOIN jobs j ON j.job_id = w.job_id
            WHERE w.card_stale = 1 AND w.card_updated_at <= ? AND w.card_ts IS NOT NULL
              AND w.card_version < j.version AND w.{REACHABLE}
            ORDER BY w.card_updated_at
            LIMIT ?
            """,
            (now - min_interval, max(0, limit)),
        )
        return [CardToRefresh(watch=watch_from_row(row, "w_"), job=job_from_row(row)) for row in rows]


async def mark_cards_stale(db: aiosqlite.Connection, job_id: str) -> None:
    """The job's posted cards show an older version of it now: they are to be redrawn."""
    await db.execute(
        "UPDATE watches SET card_stale = 1 WHERE job_id = ? AND card_ts IS NOT NULL AND card_stale = 0",
        (job_id,),
    )
