"""The outbox: the notes for Slack, and the channels the bot cannot post to.

A note is queued in the same transaction as the change it tells, so neither is ever stored without the
other; the notifier claims and delivers it later.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import aiosqlite

from bot.jobs.observation_rules import Note
from bot.jobs.records import OutboxItem, OutboxStats, UnreachableChannel
from storage.connection import Connections, rows, run
from storage.rows import OUTBOX_FIELDS, encode_json, outbox_from_row

# A condition on `channel`: the bot is not known to be unable to post there (cards are not edited there).
REACHABLE = "channel NOT IN (SELECT channel FROM unreachable_channels)"
_OUTBOX_COLUMNS = ", ".join(OUTBOX_FIELDS)
_ERROR_TEXT_LIMIT = 2000
# A "succeeded" note enqueued after `?` waits while its job's final read (the final losses) is due. The
# transition is the status note's key, "<seq>:<status>".
_WAITING_FOR_FINAL_READ = """
    AND NOT EXISTS (
        SELECT 1 FROM jobs j
        WHERE j.job_id = o.job_id AND j.final_read_due = 1 AND j.status = 'succeeded'
          AND o.transition = j.status_seq || ':succeeded' AND o.created_at > ?)
"""


async def enqueue(db: aiosqlite.Connection, job_id: str, note: Note, *, now: float) -> tuple[int, ...]:
    """One outbox row per watching channel (owner first); a row already there is kept as it is. A row for a
    channel the bot cannot post to waits for that channel's next try.

    The outbox is unique on (job, channel, transition), so a note is never queued twice for a channel.
    """
    inserted: Iterable[sqlite3.Row] = await rows(
        db,
        """
        INSERT OR IGNORE INTO outbox (job_id, channel, transition, kind, payload, next_attempt_at, created_at)
        SELECT w.job_id, w.channel, ?, ?, ?,
               max(?, coalesce((SELECT u.retry_at FROM unreachable_channels u WHERE u.channel = w.channel), 0)),
               ?
        FROM watches w
        WHERE w.job_id = ?
        ORDER BY w.is_owner DESC, w.created_at, w.channel
        RETURNING id
        """,
        (note.transition, note.kind, encode_json(note.payload), now, now, job_id),
    )
    return tuple(sorted(int(row["id"]) for row in inserted))


class Outbox(Connections):
    """The outbox part of `SqliteStore` (see `storage.store.Store` for what each method does)."""

    async def claim_due_outbox(
        self, *, now: float, limit: int, lease: float, final_read_wait: float = 0.0
    ) -> list[OutboxItem]:
        holding = final_read_wait > 0
        held = _WAITING_FOR_FINAL_READ if holding else ""
        held_params: tuple[float, ...] = (now - final_read_wait,) if holding else ()
        chosen = f"""
            SELECT o.id FROM outbox o
            WHERE o.state = 'pending' AND o.next_attempt_at <= ?
              AND NOT EXISTS (
                  SELECT 1 FROM outbox earlier
                  WHERE earlier.job_id = o.job_id AND earlier.channel = o.channel
                    AND earlier.state = 'pending' AND earlier.id < o.id)
              {held}
            ORDER BY o.next_attempt_at, o.id
            LIMIT ?"""
        return await self._claim(chosen, (now, *held_params, max(0, limit)), now=now, lease=lease)

    async def claim_in_flight(self, *, now: float, limit: int, lease: float) -> list[OutboxItem]:
        # Oldest first, so an in-flight row is always taken with (before) any later in-flight row of its
        # job and channel that it lets through.
        chosen = """
            SELECT o.id FROM outbox o
            WHERE o.state = 'pending' AND o.claimed_at IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM outbox earlier
                  WHERE earlier.job_id = o.job_id AND earlier.channel = o.channel
                    AND earlier.state = 'pending' AND earlier.id < o.id
                    AND earlier.claimed_at IS NULL)
            ORDER BY o.id
            LIMIT ?"""
        return await self._claim(chosen, (max(0, limit),), now=now, lease=lease)

    async def _claim(
        self, chosen: str, params: tuple[float | int, ...], *, now: float, lease: float
    ) -> list[OutboxItem]:
        """Lease the rows the `chosen` query picks (in one statement, so two claimers never share a row)."""
        async with self._write() as db:
            claimed = await rows(
                db,
                f"""
                UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, claimed_at = ?
                WHERE id IN ({chosen})
                RETURNING {_OUTBOX_COLUMNS}
                """,
                (now + lease, now, *params),
            )
        return sorted((outbox_from_row(row) for row in claimed), key=lambda item: item.id)

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

    async def mark_channel_unreachable(
        self, channel: str, *, reason: str, now: float, retry_at: float | None = None
    ) -> int:
        async with self._write() as db:
            await db.execute(
                """
                INSERT INTO unreachable_channels (channel, reason, at, failures, retry_at) VALUES (?, ?, ?, 1, ?)
                ON CONFLICT (channel) DO UPDATE SET
                    reason = excluded.reason, at = excluded.at, retry_at = excluded.retry_at,
                    failures = unreachable_channels.failures + 1
                """,
                (channel, reason[:_ERROR_TEXT_LIMIT], now, now if retry_at is None else retry_at),
            )
            # The channel's notes wait for its next try (none is lost: each is given up only when too old).
            return await run(
                db,
                """
                UPDATE outbox SET next_attempt_at = ?, last_error = ?, claimed_at = NULL
                WHERE channel = ? AND state = 'pending'
                """,
                (now if retry_at is None else retry_at, reason[:_ERROR_TEXT_LIMIT], channel),
            )

    async def channel_unreachable(self, channel: str) -> str | None:
        found = await self._read("SELECT reason FROM unreachable_channels WHERE channel = ?", (channel,))
        return str(found[0]["reason"]) if found else None

    async def unreachable_channel(self, channel: str) -> UnreachableChannel | None:
        found = await self._read(
            "SELECT channel, reason, failures, retry_at, told FROM unreachable_channels WHERE channel = ?",
            (channel,),
        )
        if not found:
            return None
        row = found[0]
        return UnreachableChannel(
            channel=str(row["channel"]),
            reason=str(row["reason"]),
            failures=int(row["failures"]),
            retry_at=float(row["retry_at"]),
            told=bool(row["told"]),
        )

    async def clear_channel_unreachable(self, channel: str, *, now: float) -> bool:
        async with self._write() as db:
            cleared = await run(db, "DELETE FROM unreachable_channels WHERE channel = ?", (channel,))
            await db.execute(
                """
                UPDATE outbox SET next_attempt_at = ?
                WHERE channel = ? AND state = 'pending' AND claimed_at IS NULL AND next_attempt_at > ?
                """,
                (now, channel, now),
            )
        return cleared == 1

    async def claim_unreachable_notice(self, channel: str) -> bool:
        async with self._write() as db:
            taken = await run(
                db, "UPDATE unreachable_channels SET told = 1 WHERE channel = ? AND told = 0", (channel,)
            )
        return taken == 1

    async def outbox_stats(self, *, now: float) -> OutboxStats:
        found = await self._read(
            """
            SELECT (SELECT count(*) FROM outbox WHERE state = 'pending') AS pending,
                   (SELECT min(created_at) FROM outbox WHERE state = 'pending') AS oldest,
                   (SELECT count(*) FROM outbox WHERE state = 'given_up') AS given_up
            """
        )
        row = found[0]
        oldest = row["oldest"]
        return OutboxStats(
            pending=int(row["pending"]),
            oldest_pending_age=None if oldest is None else max(0.0, now - float(oldest)),
            given_up=int(row["given_up"]),
        )

    async def prune_delivered(self, *, before: float, now: float) -> int:
        async with self._write() as db:
            removed = await run(
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
