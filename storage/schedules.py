"""Channel schedules (digest, quiet hours), the channel-level posts they make, notes held back during quiet
hours, and who opened the Home tab."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from bot.jobs.records import TrackedJob
from bot.schedule.records import ChannelPost, ChannelSchedule, HeldNote, PostKind
from bot.schedule.times import DailyTime, QuietWindow, clock_text, parse_clock
from storage.connection import Connections, rows, run
from storage.rows import JOB_COLUMNS, decode_object, encode_json, job_from_row

_POST_COLUMNS = "id, channel, key, kind, payload, attempts, created_at"
HELD_ERROR = "held for quiet hours; folded into the summary"


def _schedule_from_row(row: sqlite3.Row) -> ChannelSchedule:
    digest_at = parse_clock(row["digest_time"]) if row["digest_time"] else None
    quiet_start = parse_clock(row["quiet_start"]) if row["quiet_start"] else None
    quiet_end = parse_clock(row["quiet_end"]) if row["quiet_end"] else None
    return ChannelSchedule(
        channel=str(row["channel"]),
        digest=DailyTime(digest_at, str(row["digest_zone"] or "UTC")) if digest_at else None,
        digest_since=None if row["digest_since"] is None else float(row["digest_since"]),
        quiet=(
            QuietWindow(quiet_start, quiet_end, str(row["quiet_zone"] or "UTC"))
            if quiet_start is not None and quiet_end is not None
            else None
        ),
        updated_by=None if row["updated_by"] is None else str(row["updated_by"]),
        updated_at=float(row["updated_at"]),
    )


def _post_from_row(row: sqlite3.Row) -> ChannelPost:
    return ChannelPost(
        id=int(row["id"]),
        channel=str(row["channel"]),
        key=str(row["key"]),
        kind=PostKind(str(row["kind"])),
        payload=decode_object(row["payload"]),
        attempts=int(row["attempts"]),
        created_at=float(row["created_at"]),
    )


class Schedules(Connections):
    """The schedules part of `SqliteStore` (see `storage.store.Store` for what each method does)."""

    # ---- schedules --------------------------------------------------------------------------------------

    async def channel_schedule(self, channel: str) -> ChannelSchedule | None:
        found = await self._read("SELECT * FROM channel_schedules WHERE channel = ?", (channel,))
        return _schedule_from_row(found[0]) if found else None

    async def digest_schedules(self) -> list[ChannelSchedule]:
        found = await self._read("SELECT * FROM channel_schedules WHERE digest_time IS NOT NULL")
        return [_schedule_from_row(row) for row in found]

    async def set_digest(self, channel: str, digest: DailyTime | None, *, user: str, now: float) -> None:
        time_text = clock_text(digest.at) if digest else None
        zone = digest.zone if digest else None
        async with self._write() as db:
            # Turning it on starts the window now; changing the time keeps what is not yet told.
            await db.execute(
                """
                INSERT INTO channel_schedules (channel, digest_time, digest_zone, digest_since, updated_by,
                                               updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (channel) DO UPDATE SET
                    digest_time = excluded.digest_time, digest_zone = excluded.digest_zone,
                    digest_since = CASE WHEN excluded.digest_time IS NULL THEN NULL
                                        ELSE coalesce(channel_schedules.digest_since, excluded.digest_since) END,
                    updated_by = excluded.updated_by, updated_at = excluded.updated_at
                """,
                (channel, time_text, zone, now if digest else None, user, now),
            )

    async def set_quiet(self, channel: str, quiet: QuietWindow | None, *, user: str, now: float) -> None:
        start = clock_text(quiet.start) if quiet else None
        end = clock_text(quiet.end) if quiet else None
        zone = quiet.zone if quiet else None
        async with self._write() as db:
            await db.execute(
                """
                INSERT INTO channel_schedules (channel, quiet_start, quiet_end, quiet_zone, updated_by,
                                               updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (channel) DO UPDATE SET
                    quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
                    quiet_zone = excluded.quiet_zone, updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at
                """,
                (channel, start, end, zone, user, now),
            )
            if quiet is None:
                # Nothing stays held once quiet hours are off: what was held is summarised at once.
                await db.execute("UPDATE quiet_held SET until = ? WHERE channel = ?", (now, channel))

    # ---- channel posts ----------------------------------------------------------------------------------

    async def queue_digest(
        self, channel: str, key: str, payload: dict[str, object], *, told_until: float, now: float
    ) -> bool:
        async with self._write() as db:
            inserted = await run(
                db,
                """
                INSERT OR IGNORE INTO channel_posts (channel, key, kind, payload, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                (channel, key, PostKind.DIGEST.value, encode_json(payload), now, now),
            )
            if inserted:
                await db.execute(
                    "UPDATE channel_schedules SET digest_since = ? WHERE channel = ?", (told_until, channel)
                )
        return bool(inserted)

    async def channel_post_keys(self, channel: str, *, kind: PostKind) -> list[str]:
        found = await self._read(
            "SELECT key FROM channel_posts WHERE channel = ? AND kind = ? ORDER BY id", (channel, kind.value)
        )
        return [str(row["key"]) for row in found]

    async def claim_channel_posts(self, *, now: float, limit: int, lease: float) -> list[ChannelPost]:
        async with self._write() as db:
            claimed = await rows(
                db,
                f"""
                UPDATE channel_posts SET next_attempt_at = ?, attempts = attempts + 1
                WHERE id IN (SELECT id FROM channel_posts WHERE state = 'pending' AND next_attempt_at <= ?
                             ORDER BY next_attempt_at, id LIMIT ?)
                RETURNING {_POST_COLUMNS}
                """,
                (now + lease, now, max(0, limit)),
            )
        return sorted((_post_from_row(row) for row in claimed), key=lambda post: post.id)

    async def channel_post_sent(self, post_id: int, *, ts: str, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE channel_posts SET state = 'sent', slack_ts = ?, sent_at = ? WHERE id = ?",
                (ts, now, post_id),
            )

    async def channel_post_retry(self, post_id: int, *, error: str, next_attempt_at: float) -> None:
        async with self._write() as db:
            await db.execute(
                """
                UPDATE channel_posts SET last_error = ?, next_attempt_at = ?
                WHERE id = ? AND state = 'pending'
                """,
                (error[:2000], next_attempt_at, post_id),
            )

    async def channel_post_given_up(self, post_id: int, *, error: str, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE channel_posts SET state = 'given_up', last_error = ?, sent_at = ? WHERE id = ?",
                (error[:2000], now, post_id),
            )

    # ---- quiet hours ------------------------------------------------------------------------------------

    async def hold_note(
        self,
        outbox_id: int,
        *,
        channel: str,
        job_id: str,
        transition: str,
        payload: dict[str, object],
        until: float,
        now: float,
    ) -> bool:
        async with self._write() as db:
            handed_over = await run(
                db,
                """
                UPDATE outbox SET state = 'sent', sent_at = ?, claimed_at = NULL, last_error = ?
                WHERE id = ? AND state = 'pending'
                """,
                (now, HELD_ERROR, outbox_id),
            )
            if handed_over:
                await db.execute(
                    """
                    INSERT OR IGNORE INTO quiet_held (outbox_id, channel, job_id, transition, payload, until,
                                                      held_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    (outbox_id, channel, job_id, transition, encode_json(payload), until, now),
                )
        return bool(handed_over)

    async def held_notes(self, channel: str) -> list[HeldNote]:
        found = await self._read("SELECT * FROM quiet_held WHERE channel = ? ORDER BY outbox_id", (channel,))
        return [_held_from_row(row) for row in found]

    async def fold_held_notes(self, *, now: float) -> int:
        """One summary post per channel and quiet period that ended, holding its notes; returns how many."""
        async with self._write() as db:
            due = [
                _held_from_row(row)
                for row in await rows(
                    db, "SELECT * FROM quiet_held WHERE until <= ? ORDER BY channel, until, outbox_id", (now,)
                )
            ]
            groups: dict[tuple[str, float], list[HeldNote]] = {}
            for note in due:
                groups.setdefault((note.channel, note.until), []).append(note)
            for (channel, until), notes in groups.items():
                payload: dict[str, object] = {
                    "until": until,
                    "notes": [{"job_id": n.job_id, "transition": n.transition, **n.payload} for n in notes],
                }
                await db.execute(
                    """
                    INSERT OR IGNORE INTO channel_posts (channel, key, kind, payload, next_attempt_at,
                                                         created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                    (
                        channel,
                        f"quiet:{int(until)}",
                        PostKind.QUIET_SUMMARY.value,
                        encode_json(payload),
                        now,
                        now,
                    ),
                )
            if due:
                marks = ",".join("?" for _ in due)
                await db.execute(
                    f"DELETE FROM quiet_held WHERE outbox_id IN ({marks})", [n.outbox_id for n in due]
                )
        return len(groups)

    # ---- the Home tab -----------------------------------------------------------------------------------

    async def remember_home(self, user: str, *, now: float) -> None:
        async with self._write() as db:
            await db.execute(
                """
                INSERT INTO home_tabs (user, opened_at) VALUES (?, ?)
                ON CONFLICT (user) DO UPDATE SET opened_at = excluded.opened_at
                """,
                (user, now),
            )

    async def home_published(self, user: str, *, now: float) -> None:
        async with self._write() as db:
            await db.execute("UPDATE home_tabs SET published_at = ? WHERE user = ?", (now, user))

    async def home_users(self, users: Sequence[str]) -> dict[str, float | None]:
        """Of `users`, those who opened the Home tab, with when it was last published for them."""
        if not users:
            return {}
        marks = ",".join("?" for _ in users)
        found = await self._read(
            f"SELECT user, published_at FROM home_tabs WHERE user IN ({marks})", list(users)
        )
        return {
            str(row["user"]): None if row["published_at"] is None else float(row["published_at"])
            for row in found
        }

    async def creators_changed_since(self, since: float) -> set[str]:
        found = await self._read(
            "SELECT DISTINCT creator FROM jobs WHERE updated_at > ? AND creator IS NOT NULL", (since,)
        )
        return {str(row["creator"]) for row in found}

    async def jobs_of_creator(self, user: str, *, active: bool, limit: int) -> list[TrackedJob]:
        order = "j.created_at DESC" if active else "j.updated_at DESC"
        found = await self._read(
            f"""
            SELECT {JOB_COLUMNS} FROM jobs j WHERE j.creator = ? AND j.terminal = ?
            ORDER BY {order}, j.job_id DESC LIMIT ?
            """,
            (user, 0 if active else 1, max(0, limit)),
        )
        return [job_from_row(row) for row in found]


def _held_from_row(row: sqlite3.Row) -> HeldNote:
    return HeldNote(
        outbox_id=int(row["outbox_id"]),
        channel=str(row["channel"]),
        job_id=str(row["job_id"]),
        transition=str(row["transition"]),
        payload=decode_object(row["payload"]),
        until=float(row["until"]),
    )
