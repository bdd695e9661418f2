"""The part of the storage interface for channel schedules, their posts, quiet hours and the Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.jobs.records import TrackedJob
from bot.schedule.records import ChannelPost, ChannelSchedule, HeldNote, PostKind
from bot.schedule.times import DailyTime, QuietWindow


class ScheduleStore(Protocol):
    async def channel_schedule(self, channel: str) -> ChannelSchedule | None: ...

    async def digest_schedules(self) -> list[ChannelSchedule]:
        """Every channel with a daily digest."""

    async def set_digest(self, channel: str, digest: DailyTime | None, *, user: str, now: float) -> None:
        """Set (or, with None, turn off) the channel's digest. Turning it on starts its window at `now`."""

    async def set_quiet(self, channel: str, quiet: QuietWindow | None, *, user: str, now: float) -> None:
        """Set (or turn off) the channel's quiet hours; turning them off releases what is held at once."""

    async def queue_digest(
        self, channel: str, key: str, payload: dict[str, object], *, told_until: float, now: float
    ) -> bool:
        """Queue the digest under `key` and move the channel's window to `told_until`, in one transaction;
        False (and nothing changed) when a digest with that key was queued before."""

    async def channel_post_keys(self, channel: str, *, kind: PostKind) -> list[str]: ...

    async def claim_channel_posts(self, *, now: float, limit: int, lease: float) -> list[ChannelPost]:
        """Lease the due pending posts (each claim counts an attempt)."""

    async def channel_post_sent(self, post_id: int, *, ts: str, now: float) -> None: ...

    async def channel_post_retry(self, post_id: int, *, error: str, next_attempt_at: float) -> None: ...

    async def channel_post_given_up(self, post_id: int, *, error: str, now: float) -> None: ...

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
        """Keep a pending outbox row back until `until`: the row is handed over (marked sent, not posted)
        and its note kept for the summary, in one transaction. False when the row was no longer pending."""

    async def held_notes(self, channel: str) -> list[HeldNote]: ...

    async def fold_held_notes(self, *, now: float) -> int:
        """Turn the notes held until `now` or before into one summary post per channel and quiet period."""

    async def remember_home(self, user: str, *, now: float) -> None:
        """`user` opened the app's Home tab: it is kept up to date for them from now on."""

    async def home_published(self, user: str, *, now: float) -> None: ...

    async def home_users(self, users: Sequence[str]) -> dict[str, float | None]:
        """Of `users`, those who opened the Home tab, with when it was last published for them."""

    async def creators_changed_since(self, since: float) -> set[str]:
        """Who started the jobs changed after `since`."""

    async def jobs_of_creator(self, user: str, *, active: bool, limit: int) -> list[TrackedJob]:
        """Their active jobs (newest first) or their finished ones (latest change first)."""
