"""`Store` on one SQLite file, through aiosqlite.

Two connections: one writes, one reads.
- Every write is one `BEGIN IMMEDIATE` transaction on the writer connection, behind an asyncio.Lock: the
  connection runs one statement at a time, but without the lock two tasks' transactions would interleave
  their statements (and one's ROLLBACK would undo the other's work). IMMEDIATE takes SQLite's write lock
  up front, which also keeps a second process (another `tuneops` on the same file) out until COMMIT.
- Reads go to the reader connection, so they never wait behind a write and only ever see committed data
  (WAL: readers and the writer do not block each other).

Durability: WAL with `synchronous=FULL` by default — every COMMIT is fsynced to the WAL before it returns.
With NORMAL a committed transaction survives a killed process but may be lost on power failure; for the
outbox that would mean a notification marked sent, rolled back and sent again. Writes here are few (a poll
result, a delivery, a click), so the fsync is worth it; `bench/bench_storage.py` prints both figures.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

from bot.jobs.records import (
    AuditEntry,
    CardToRefresh,
    NewJob,
    Observation,
    OutboxItem,
    OutboxStats,
    StatusChange,
    TrackedJob,
    Watch,
)
from storage.errors import JobNotTrackedError
from storage.migrations import apply_migrations
from storage.read_order import is_older_read, is_superseded
from storage.rows import (
    AUDIT_FIELDS,
    JOB_FIELDS,
    OUTBOX_FIELDS,
    WATCH_FIELDS,
    audit_from_row,
    columns,
    encode_json,
    is_terminal,
    job_from_row,
    merge_progress,
    outbox_from_row,
    watch_from_row,
)
from storage.transactions import immediate_transaction

if TYPE_CHECKING:
    from storage.store import Store

Synchronous = Literal["FULL", "NORMAL"]

_JOB_COLUMNS = columns(JOB_FIELDS, table="j")
_WATCH_COLUMNS = columns(WATCH_FIELDS, table="w")
_OUTBOX_COLUMNS = ", ".join(OUTBOX_FIELDS)
_AUDIT_COLUMNS = ", ".join(AUDIT_FIELDS)
_NOT_UNREACHABLE = "channel NOT IN (SELECT channel FROM unreachable_channels)"
_ERROR_TEXT_LIMIT = 2000
_PRUNE_DELIVERIES_EVERY = 60.0  # seconds between sweeps of expired delivery keys
# The watcher's query (parameters: now, limit). Its first condition is written exactly as the `jobs_due`
# partial index's, so that index serves it: the finished jobs, most of the table in time, are never read.
DUE_JOBS_QUERY = f"""
    SELECT {_JOB_COLUMNS} FROM jobs j
    WHERE (j.terminal = 0 OR j.final_read_due = 1) AND j.next_poll_at <= ?
      AND EXISTS (SELECT 1 FROM watches w WHERE w.job_id = j.job_id)
    ORDER BY j.next_poll_at
    LIMIT ?
"""


async def _connect(path: Path, *, busy_timeout: float) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; every transaction here is explicit.
    db = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
    db.row_factory = sqlite3.Row
    await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    return db


async def _configure_writer(db: aiosqlite.Connection, synchronous: Synchronous) -> None:
    mode = await _one(db, "PRAGMA journal_mode = WAL")  # persistent: stored in the file
    if mode is None or str(mode[0]).lower() != "wal":
        raise sqlite3.OperationalError("could not switch the database to WAL mode")
    await db.execute(f"PRAGMA synchronous = {synchronous}")
    await db.execute("PRAGMA foreign_keys = ON")


async def _rows(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    return list(await db.execute_fetchall(sql, params))


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    rows = await _rows(db, sql, params)
    return rows[0] if rows else None


async def _run(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """Execute a write statement; return how many rows it changed."""
    async with db.execute(sql, params) as cursor:
        return cursor.rowcount


class SqliteStore:
    """The `storage.store.Store` protocol on one SQLite file. Build it with `open` or `open_store`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._closed = False
        self._next_delivery_prune = float("-inf")

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
        writer = await _connect(file, busy_timeout=busy_timeout)
        try:
            await _configure_writer(writer, synchronous)
            reader = await _connect(file, busy_timeout=busy_timeout)
        except BaseException:
            await writer.close()
            raise
        await reader.execute("PRAGMA query_only = ON")
        return cls(file, writer, reader)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock, immediate_transaction(self._writer) as db:
            yield db

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await _rows(self._reader, sql, params)

    # lifecycle -------------------------------------------------------------------------------------
    async def migrate(self) -> int:
        async with self._write_lock:
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
            row = await _one(self._reader, "SELECT 1")
        except (sqlite3.Error, ValueError):
            return False
        return row is not None and row[0] == 1

    # jobs and watches ------------------------------------------------------------------------------
    async def track_job(
        self, job: NewJob, *, now: float, next_poll_at: float | None = None, owner_watch: bool = True
    ) -> tuple[TrackedJob, bool]:
        snapshot = encode_json(job.snapshot)
        async with self._write() as db:
            created = (
                await _run(
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
                        int(is_terminal(job.status)),
                        int(is_terminal(job.status)),  # finished already: one read for its last figures
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
            row = await _one(db, f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE j.job_id = ?", (job.job_id,))
        if row is None:  # the row was inserted or already there, inside the same transaction
            raise JobNotTrackedError(job.job_id)
        return job_from_row(row), created

    async def get_job(self, job_id: str) -> TrackedJob | None:
        rows = await self._read(f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE j.job_id = ?", (job_id,))
        return job_from_row(rows[0]) if rows else None

    async def add_watch(
        self, job_id: str, channel: str, *, user: str | None, now: float, owner: bool = False
    ) -> bool:
        async with self._write() as db:
            if await _one(db, "SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)) is None:
                raise JobNotTrackedError(job_id)
            added = await _run(
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
            removed = await _run(
                db, "DELETE FROM watches WHERE job_id = ? AND channel = ?", (job_id, channel)
            )
        return removed == 1

    async def get_watch(self, job_id: str, channel: str) -> Watch | None:
        rows = await self._read(
            f"SELECT {_WATCH_COLUMNS} FROM watches w WHERE w.job_id = ? AND w.channel = ?", (job_id, channel)
        )
        return watch_from_row(rows[0]) if rows else None

    async def watches(self, job_id: str) -> list[Watch]:
        rows = await self._read(
            f"""
            SELECT {_WATCH_COLUMNS} FROM watches w WHERE w.job_id = ?
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
            SELECT {_JOB_COLUMNS} FROM watches w JOIN jobs j ON j.job_id = w.job_id
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
            SELECT {columns(WATCH_FIELDS, table="w", prefix="w_")}, {_JOB_COLUMNS}
            FROM watches w JOIN jobs j ON j.job_id = w.job_id
            WHERE w.card_stale = 1 AND w.card_updated_at <= ? AND w.card_ts IS NOT NULL
              AND w.card_version < j.version AND w.{_NOT_UNREACHABLE}
            ORDER BY w.card_updated_at
            LIMIT ?
            """,
            (now - min_interval, max(0, limit)),
        )
        return [CardToRefresh(watch=watch_from_row(row, "w_"), job=job_from_row(row)) for row in rows]

    # the watcher ------------------------------------------------------------------------------------
    async def due_jobs(self, *, now: float, limit: int) -> list[TrackedJob]:
        rows = await self._read(DUE_JOBS_QUERY, (now, max(0, limit)))
        return [job_from_row(row) for row in rows]

    async def record_observation(
        self, job_id: str, observation: Observation, *, now: float, next_poll_at: float
    ) -> StatusChange | None:
        snapshot = encode_json(observation.snapshot)
        async with self._write() as db:
            row = await _one(
                db,
                f"""
                SELECT {_JOB_COLUMNS}, j.read_at AS read_at, j.final_read_due AS final_read_due
                FROM jobs j WHERE j.job_id = ?
                """,
                (job_id,),
            )
            if row is None:
                raise JobNotTrackedError(job_id)
            job = job_from_row(row)
            applied_read_at = _read_at(row)
            if is_superseded(observation, job.status, applied_read_at, now=now):
                return None
            # A finished job's older read is still applied (see is_superseded): the stamp never goes back.
            older = is_older_read(observation.read_at, applied_read_at, now=now)
            read_at = applied_read_at if older else observation.read_at
            progress = merge_progress(job.progress, observation.progress)
            event_id, event_at = job.last_event_id, job.last_event_at
            if observation.last_event_id is not None and observation.last_event_id != job.last_event_id:
                event_id = observation.last_event_id
                event_at = observation.last_event_at if observation.last_event_at is not None else now
            status_changed = observation.status != job.status
            final_read_due = _final_read_due(job.status, bool(row["final_read_due"]), observation)
            if final_read_due:
                next_poll_at = min(next_poll_at, now)  # the final read comes at the watcher's next cycle
            # Anything a card shows: its status, its progress, or the job object it is drawn from.
            shown_changed = status_changed or progress != job.progress or snapshot != row["snapshot"]
            seq = job.status_seq + 1 if status_changed else job.status_seq
            await db.execute(
                """
                UPDATE jobs
                SET status = ?, terminal = ?, final_read_due = ?, status_seq = ?, step = ?, total_steps = ?,
                    train_loss = ?, valid_loss = ?, estimated_finish = ?, last_event_id = ?,
                    last_event_at = ?, snapshot = ?, version = version + ?, next_poll_at = ?, read_at = ?,
                    updated_at = ?
                WHERE job_id = ?
                """,
                (
                    observation.status,
                    int(is_terminal(observation.status)),
                    int(final_read_due),
                    seq,
                    progress.step,
                    progress.total_steps,
                    progress.train_loss,
                    progress.valid_loss,
                    progress.estimated_finish,
                    event_id,
                    event_at,
                    snapshot,
                    int(shown_changed),
                    next_poll_at,
                    read_at,
                    now,
                    job_id,
                ),
            )
            if shown_changed:
                await _mark_cards_stale(db, job_id)
            if not status_changed:
                return None
            # Our keys last: details cannot disguise which transition this is.
            payload = {
                **observation.details,
                "previous": job.status,
                "current": observation.status,
                "seq": seq,
            }
            ids = await _enqueue(
                db, job_id, transition=f"{seq}:{observation.status}", kind="status", payload=payload, now=now
            )
        return StatusChange(
            job_id=job_id, previous=job.status, current=observation.status, seq=seq, outbox_ids=ids
        )

    async def schedule_poll(self, job_id: str, *, next_poll_at: float) -> None:
        async with self._write() as db:
            await db.execute("UPDATE jobs SET next_poll_at = ? WHERE job_id = ?", (next_poll_at, job_id))

    async def give_up_final_read(self, job_id: str) -> bool:
        async with self._write() as db:
            changed = await _run(
                db, "UPDATE jobs SET final_read_due = 0 WHERE job_id = ? AND final_read_due = 1", (job_id,)
            )
        return changed == 1

    async def note_stuck(self, job_id: str, *, now: float, read_at: float | None = None) -> bool:
        async with self._write() as db:
            row = await _one(
                db,
                "SELECT status, status_seq, stuck_noted_seq, last_event_at, read_at FROM jobs WHERE job_id = ?",
                (job_id,),
            )
            if row is None:
                raise JobNotTrackedError(job_id)
            seq = int(row["status_seq"])
            if row["stuck_noted_seq"] == seq:
                return False
            if read_at is not None and is_older_read(read_at, _read_at(row), now=now):
                return False  # judged on a read older than one recorded since: it may not be running at all
            # The card shows the "looks stuck" mark too: bump the version so it is redrawn.
            await db.execute(
                "UPDATE jobs SET stuck_noted_seq = ?, version = version + 1 WHERE job_id = ?", (seq, job_id)
            )
            await _mark_cards_stale(db, job_id)
            payload = {"status": row["status"], "seq": seq, "last_event_at": row["last_event_at"]}
            await _enqueue(db, job_id, transition=f"stuck:{seq}", kind="stuck", payload=payload, now=now)
        return True

    # the notifier -----------------------------------------------------------------------------------
    async def claim_due_outbox(
        self, *, now: float, limit: int, lease: float, final_read_wait: float = 0.0
    ) -> list[OutboxItem]:
        holding = final_read_wait > 0
        held = _WAITING_FOR_FINAL_READ if holding else ""
        held_params: tuple[float, ...] = (now - final_read_wait,) if holding else ()
        async with self._write() as db:
            rows = await _rows(
                db,
                f"""
                UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, claimed_at = ?
                WHERE id IN (
                    SELECT o.id FROM outbox o
                    WHERE o.state = 'pending' AND o.next_attempt_at <= ?
                      AND NOT EXISTS (
                          SELECT 1 FROM outbox earlier
                          WHERE earlier.job_id = o.job_id AND earlier.channel = o.channel
                            AND earlier.state = 'pending' AND earlier.id < o.id)
                      {held}
                    ORDER BY o.next_attempt_at, o.id
                    LIMIT ?)
                RETURNING {_OUTBOX_COLUMNS}
                """,
                (now + lease, now, now, *held_params, max(0, limit)),
            )
        return sorted((outbox_from_row(row) for row in rows), key=lambda item: item.id)

    async def claim_in_flight(self, *, now: float, limit: int, lease: float) -> list[OutboxItem]:
        # Oldest first, so an in-flight row is always taken with (before) any later in-flight row of its
        # job and channel that it lets through.
        async with self._write() as db:
            rows = await _rows(
                db,
                f"""
                UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, claimed_at = ?
                WHERE id IN (
                    SELECT o.id FROM outbox o
                    WHERE o.state = 'pending' AND o.claimed_at IS NOT NULL
                      AND NOT EXISTS (
                          SELECT 1 FROM outbox earlier
                          WHERE earlier.job_id = o.job_id AND earlier.channel = o.channel
                            AND earlier.state = 'pending' AND earlier.id < o.id
                            AND earlier.claimed_at IS NULL)
                    ORDER BY o.id
                    LIMIT ?)
                RETURNING {_OUTBOX_COLUMNS}
                """,
                (now + lease, now, max(0, limit)),
            )
        return sorted((outbox_from_row(row) for row in rows), key=lambda item: item.id)

    async def mark_sent(self, item_id: int, *, ts: str, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                """
                UPDATE outbox SET state = 'sent', slack_ts = ?, sent_at = ?, claimed_at = NULL
                WHERE id = ? AND state <> 'sent'
                """,
                (ts, now, item_id),
            )

    async def mark_retry(self, item_id: int, *, error: str, next_attempt_at: float) -> None:
        async with self._write() as db:
            await db.execute(
                """
                UPDATE outbox SET last_error = ?, next_attempt_at = ?, claimed_at = NULL
                WHERE id = ? AND state = 'pending'
                """,
                (error[:_ERROR_TEXT_LIMIT], next_attempt_at, item_id),
            )

    async def mark_given_up(self, item_id: int, *, error: str, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                """
                UPDATE outbox SET state = 'given_up', last_error = ?, given_up_at = ?, claimed_at = NULL
                WHERE id = ? AND state = 'pending'
                """,
                (error[:_ERROR_TEXT_LIMIT], now, item_id),
            )

    async def mark_channel_unreachable(self, channel: str, *, reason: str, now: float) -> int:
        async with self._write() as db:
            await db.execute(
                """
                INSERT INTO unreachable_channels (channel, reason, at) VALUES (?, ?, ?)
                ON CONFLICT (channel) DO UPDATE SET reason = excluded.reason, at = excluded.at
                """,
                (channel, reason[:_ERROR_TEXT_LIMIT], now),
            )
            return await _run(
                db,
                """
                UPDATE outbox SET state = 'given_up', last_error = ?, given_up_at = ?, claimed_at = NULL
                WHERE channel = ? AND state = 'pending'
                """,
                (reason[:_ERROR_TEXT_LIMIT], now, channel),
            )

    async def channel_unreachable(self, channel: str) -> str | None:
        rows = await self._read("SELECT reason FROM unreachable_channels WHERE channel = ?", (channel,))
        return str(rows[0]["reason"]) if rows else None

    async def outbox_stats(self, *, now: float) -> OutboxStats:
        rows = await self._read(
            """
            SELECT (SELECT count(*) FROM outbox WHERE state = 'pending') AS pending,
                   (SELECT min(created_at) FROM outbox WHERE state = 'pending') AS oldest,
                   (SELECT count(*) FROM outbox WHERE state = 'given_up') AS given_up
            """
        )
        row = rows[0]
        oldest = row["oldest"]
        return OutboxStats(
            pending=int(row["pending"]),
            oldest_pending_age=None if oldest is None else max(0.0, now - float(oldest)),
            given_up=int(row["given_up"]),
        )

    async def prune_delivered(self, *, before: float, now: float) -> int:
        async with self._write() as db:
            removed = await _run(
                db,
                """
                DELETE FROM outbox
                WHERE state IN ('sent', 'given_up') AND coalesce(sent_at, given_up_at, created_at) < ?
                  AND job_id IN (SELECT job_id FROM jobs WHERE terminal = 1)
                """,
                (before,),
            )
            await db.execute("DELETE FROM seen_deliveries WHERE expires_at <= ?", (now,))
        return removed

    # audit and delivery de-duplication --------------------------------------------------------------
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
        rows = await self._read(
            f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE job_id = ? ORDER BY at DESC, id DESC LIMIT ?",
            (job_id, max(0, limit)),
        )
        return [audit_from_row(row) for row in rows]

    async def remember_delivery(self, key: str, *, now: float, ttl: float) -> bool:
        async with self._write() as db:
            # Inserted, or an expired key taken over: first time. Left alone (a live key): a repeat.
            first = (
                await _run(
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


# A "succeeded" note enqueued after `?` waits while its job's final read (the final losses) is due.
_WAITING_FOR_FINAL_READ = """
    AND NOT EXISTS (
        SELECT 1 FROM jobs j
        WHERE j.job_id = o.job_id AND j.final_read_due = 1 AND j.status = 'succeeded'
          AND o.transition = j.status_seq || ':succeeded' AND o.created_at > ?)
"""


def _final_read_due(stored_status: str, due: bool, observation: Observation) -> bool:
    """Whether the job awaits the watcher's final read once `observation` is recorded."""
    if not is_terminal(observation.status):
        return False
    if observation.final_read:
        return False  # this is it
    # Finished, seen by someone else first (a Refresh, a Cancel's answer): the final read is still to come.
    return due or not is_terminal(stored_status)


def _read_at(row: sqlite3.Row) -> float | None:
    value = row["read_at"]
    return None if value is None else float(value)


async def _mark_cards_stale(db: aiosqlite.Connection, job_id: str) -> None:
    await db.execute(
        "UPDATE watches SET card_stale = 1 WHERE job_id = ? AND card_ts IS NOT NULL AND card_stale = 0",
        (job_id,),
    )


async def _enqueue(
    db: aiosqlite.Connection,
    job_id: str,
    *,
    transition: str,
    kind: str,
    payload: dict[str, object],
    now: float,
) -> tuple[int, ...]:
    """One outbox row per reachable watching channel (owner first); a row already there is kept as it is."""
    rows: Iterable[sqlite3.Row] = await _rows(
        db,
        f"""
        INSERT OR IGNORE INTO outbox (job_id, channel, transition, kind, payload, next_attempt_at, created_at)
        SELECT w.job_id, w.channel, ?, ?, ?, ?, ?
        FROM watches w
        WHERE w.job_id = ? AND w.{_NOT_UNREACHABLE}
        ORDER BY w.is_owner DESC, w.created_at, w.channel
        RETURNING id
        """,
        (transition, kind, encode_json(payload), now, now, job_id),
    )
    return tuple(sorted(int(row["id"]) for row in rows))


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


__all__ = ["DUE_JOBS_QUERY", "SqliteStore", "open_store"]
