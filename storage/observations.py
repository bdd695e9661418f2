"""Recording what reads of a job saw, and the watcher's schedule of jobs due for a read.

Each write reads the stored job, asks `bot.jobs.observation_rules` what changes and which note that
gives, and writes both in the same transaction: a status change is never stored without its notes.
"""

from __future__ import annotations

import aiosqlite

from bot.finetune.models import TERMINAL_STATUSES

# Imported rather than passed in: the rules decide on the state read inside the write transaction.
from bot.jobs.observation_rules import JobUpdate, StoredJob, apply_observation, stuck_note, unreadable_note
from bot.jobs.records import Observation, StatusChange, TrackedJob
from storage.connection import Connections, one, run
from storage.errors import JobNotTrackedError
from storage.jobs import mark_cards_stale
from storage.outbox import enqueue
from storage.rows import JOB_COLUMNS, encode_json, job_from_row, stored_job_from_row

# The watcher's query (parameters: now, limit). Its first condition is written exactly as the `jobs_due`
# partial index's, so that index serves it: the finished jobs, most of the table in time, are never read.
DUE_JOBS_QUERY = f"""
    SELECT {JOB_COLUMNS} FROM jobs j
    WHERE (j.terminal = 0 OR j.final_read_due = 1) AND j.next_poll_at <= ?
      AND EXISTS (SELECT 1 FROM watches w WHERE w.job_id = j.job_id)
    ORDER BY j.next_poll_at
    LIMIT ?
"""


class Observations(Connections):
    """The watcher's part of `SqliteStore` (see `storage.store.Store` for what each method does)."""

    async def due_jobs(self, *, now: float, limit: int) -> list[TrackedJob]:
        found = await self._read(DUE_JOBS_QUERY, (now, max(0, limit)))
        return [job_from_row(row) for row in found]

    async def record_observation(
        self, job_id: str, observation: Observation, *, now: float, next_poll_at: float
    ) -> StatusChange | None:
        async with self._write() as db:
            stored = await _stored_job(db, job_id)
            update = apply_observation(stored, observation, now=now, next_poll_at=next_poll_at)
            if update is None:
                return None
            await _write_update(db, job_id, update, now=now)
            if update.shown_changed:
                await mark_cards_stale(db, job_id)
            if update.note is None:
                return None
            ids = await enqueue(db, job_id, update.note, now=now)
            if update.chart is not None:
                await enqueue(db, job_id, update.chart, now=now)
        return StatusChange(
            job_id=job_id,
            previous=stored.job.status,
            current=update.status,
            seq=update.status_seq,
            outbox_ids=ids,
        )

    async def schedule_poll(self, job_id: str, *, next_poll_at: float) -> None:
        async with self._write() as db:
            await db.execute("UPDATE jobs SET next_poll_at = ? WHERE job_id = ?", (next_poll_at, job_id))

    async def give_up_final_read(self, job_id: str) -> bool:
        async with self._write() as db:
            changed = await run(
                db, "UPDATE jobs SET final_read_due = 0 WHERE job_id = ? AND final_read_due = 1", (job_id,)
            )
        return changed == 1

    async def note_stuck(self, job_id: str, *, now: float, read_at: float | None = None) -> bool:
        async with self._write() as db:
            stored = await _stored_job(db, job_id)
            note = stuck_note(stored, now=now, read_at=read_at)
            if note is None:
                return False
            # The card shows the "looks stuck" mark too: bump the version so it is redrawn.
            await db.execute(
                "UPDATE jobs SET stuck_noted_seq = ?, version = version + 1 WHERE job_id = ?",
                (stored.job.status_seq, job_id),
            )
            await mark_cards_stale(db, job_id)
            await enqueue(db, job_id, note, now=now)
        return True

    async def note_unreadable(self, job_id: str, *, reason: str, now: float) -> bool:
        async with self._write() as db:
            note = unreadable_note(await _stored_job(db, job_id), reason=reason)
            return note is not None and bool(await enqueue(db, job_id, note, now=now))


async def _stored_job(db: aiosqlite.Connection, job_id: str) -> StoredJob:
    row = await one(
        db,
        f"""
        SELECT {JOB_COLUMNS}, j.read_at AS read_at, j.final_read_due AS final_read_due
        FROM jobs j WHERE j.job_id = ?
        """,
        (job_id,),
    )
    if row is None:
        raise JobNotTrackedError(job_id)
    return stored_job_from_row(row)


async def _write_update(db: aiosqlite.Connection, job_id: str, update: JobUpdate, *, now: float) -> None:
    progress = update.progress
    await db.execute(
        """
        UPDATE jobs
        SET status = ?, terminal = ?, final_read_due = ?, status_seq = ?, step = ?, total_steps = ?,
            train_loss = ?, valid_loss = ?, estimated_finish = ?, last_event_id = ?, last_event_at = ?,
            snapshot = CASE  -- a shutdown date learned from the models' list outlives a new read of the job
                WHEN json_valid(snapshot) AND json_extract(snapshot, '$.shutdown_date') IS NOT NULL
                     AND json_extract(?, '$.shutdown_date') IS NULL
                THEN json_set(?, '$.shutdown_date', json_extract(snapshot, '$.shutdown_date'))
                ELSE ? END,
            version = version + ?, next_poll_at = ?, read_at = ?, updated_at = ?
        WHERE job_id = ?
        """,
        (
            update.status,
            int(update.status in TERMINAL_STATUSES),
            int(update.final_read_due),
            update.status_seq,
            progress.step,
            progress.total_steps,
            progress.train_loss,
            progress.valid_loss,
            progress.estimated_finish,
            update.last_event_id,
            update.last_event_at,
            *[encode_json(update.snapshot)] * 3,
            int(update.shown_changed),
            update.next_poll_at,
            update.read_at,
            now,
            job_id,
        ),
    )
