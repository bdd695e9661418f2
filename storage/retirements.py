"""Models leaving the API: the succeeded jobs and the channels that follow them, the shutdown date kept on
a job's stored snapshot (where its card reads it), and the one notice a channel gets per date (a channel
post, `UNIQUE (channel, key)`: queued once, even across restarts)."""

from __future__ import annotations

from bot.jobs.records import TrackedJob
from bot.schedule.records import PostKind
from storage.connection import Connections, run
from storage.jobs import mark_cards_stale
from storage.rows import JOB_COLUMNS, encode_json, job_from_row

SHUTDOWN_FIELD = "shutdown_date"


class Retirements(Connections):
    async def succeeded_jobs_by_channel(self, *, limit: int = 5000) -> list[tuple[str, TrackedJob]]:
        """(channel, job) for every succeeded job a channel follows, newest jobs first."""
        found = await self._read(
            f"""
            SELECT w.channel AS w_channel, {JOB_COLUMNS} FROM jobs j JOIN watches w ON w.job_id = j.job_id
            WHERE j.status = 'succeeded' ORDER BY j.created_at DESC LIMIT ?
            """,
            (max(0, limit),),
        )
        return [(str(row["w_channel"]), job_from_row(row)) for row in found]

    async def note_shutdown(self, job_id: str, shutdown_date: str) -> bool:
        """Keep the date on the job's snapshot (a new version: its cards are redrawn); False if it was."""
        async with self._write() as db:
            changed = await run(
                db,
                """
                UPDATE jobs SET snapshot = json_set(snapshot, '$.shutdown_date', ?), version = version + 1
                WHERE job_id = ? AND json_valid(snapshot)
                  AND json_extract(snapshot, '$.shutdown_date') IS NOT ?
                """,
                (shutdown_date, job_id, shutdown_date),
            )
            if changed:
                await mark_cards_stale(db, job_id)
        return bool(changed)

    async def queue_shutdown_notice(
        self, channel: str, key: str, payload: dict[str, object], *, now: float
    ) -> bool:
        """Queue the channel's notice for this date unless it ever was; True when queued now."""
        async with self._write() as db:
            inserted = await run(
                db,
                """
                INSERT OR IGNORE INTO channel_posts (channel, key, kind, payload, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                (channel, key, PostKind.SHUTDOWN_NOTICE.value, encode_json(payload), now, now),
            )
        return bool(inserted)
