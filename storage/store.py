"""The storage interface the service depends on.

`storage.sqlite.SqliteStore` implements it on one SQLite file; a PostgreSQL implementation for several
replicas can implement the same protocol later. Times are unix seconds as floats, passed in by the caller
(so tests and the watcher agree on "now").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from bot.jobs.channel_settings import ChannelSettings
from bot.jobs.records import (
    AuditEntry,
    CardToRefresh,
    CreateIntent,
    NewJob,
    Observation,
    OutboxItem,
    OutboxStats,
    StatusChange,
    TrackedJob,
    UnreachableChannel,
    Watch,
    WebhookTake,
)
from bot.jobs.subscriptions import JobFilter, Subscription
from storage.schedule_store import ScheduleStore


class Store(ScheduleStore, Protocol):
    # lifecycle -------------------------------------------------------------------------------------
    async def migrate(self) -> int:
        """Apply pending migrations in order; return the schema version. Safe to re-run."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""

    async def check_writable(self, *, now: float) -> str | None:
        """None when a tiny write commits and the file is the one opened (same inode); else why not."""

    # create intents ----------------------------------------------------------------------------------
    async def add_intent(self, intent: CreateIntent) -> None:
        """Record a create before its API call (no record, no call)."""

    async def close_intent(self, intent_id: str, *, job_id: str | None, result: str, now: float) -> bool:
        """The create's work is done (or no job came of it); False when it was already closed."""

    async def open_intents(self, *, limit: int = 100) -> list[CreateIntent]:
        """Intents not closed yet, oldest first."""

    # jobs and watches ------------------------------------------------------------------------------
    async def track_job(
        self, job: NewJob, *, now: float, next_poll_at: float | None = None, owner_watch: bool = True
    ) -> tuple[TrackedJob, bool]:
        """Start tracking `job` with its owner channel as the first watch; (job, created).

        Tracking a job already tracked changes nothing and returns the existing row with created=False.
        A new job is due for its first poll at `next_poll_at` (default `now`); its owner channel loses any
        unreachable mark. A job tracked already finished is due once, for the watcher's final read (its
        last figures).

        `owner_watch=False` tracks the job with no watch yet: no channel follows it, so it is not polled
        and no notification is queued for it, until the owner channel's watch is added with
        `add_watch(..., owner=True)` — after its card is posted, so the notifier never posts a second one.
        """

    async def get_job(self, job_id: str) -> TrackedJob | None: ...

    async def add_watch(
        self, job_id: str, channel: str, *, user: str | None, now: float, owner: bool = False
    ) -> bool:
        """Make `channel` follow a tracked job; False when it already did. Clears an unreachable mark.
        `owner`: the watch of the job's owner channel (see `track_job`'s `owner_watch`).

        Raises `storage.errors.JobNotTrackedError` when the job is not tracked.
        """

    async def remove_watch(self, job_id: str, channel: str) -> bool:
        """Stop `channel` following the job (its pending notifications are dropped); False if it did not."""

    async def get_watch(self, job_id: str, channel: str) -> Watch | None: ...

    async def card_at(self, channel: str, ts: str) -> Watch | None:
        """The watch whose job card is the message `ts` in `channel`, if that message is one."""
        ...

    async def watches(self, job_id: str) -> list[Watch]:
        """Every channel following the job, the owner first."""

    async def channel_jobs(
        self,
        channel: str,
        *,
        active_only: bool = False,
        creator: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[TrackedJob]:
        """The jobs a channel follows, newest first (by when the job came to the channel)."""

    async def set_card(self, job_id: str, channel: str, *, ts: str, version: int, now: float) -> None:
        """Remember the card message posted in `channel` and the job version it shows.

        Does nothing when the channel no longer watches the job.
        """

    async def cards_to_refresh(self, *, now: float, min_interval: float, limit: int) -> list[CardToRefresh]:
        """Cards whose job changed since they were drawn and were not edited in the last `min_interval` s.

        Least recently edited first; cards in unreachable channels are left out.
        """

    # the watcher ------------------------------------------------------------------------------------
    async def due_jobs(self, *, now: float, limit: int) -> list[TrackedJob]:
        """Jobs some channel watches whose next poll time has come, most overdue first: the non-terminal
        ones, and finished ones whose final read is still due (see `record_observation`).

        A job no channel follows any more (every watch removed) is not polled; a new watch brings it back.
        """

    async def record_observation(
        self, job_id: str, observation: Observation, *, now: float, next_poll_at: float
    ) -> StatusChange | None:
        """Store what a poll (or an action's API answer) saw, in one transaction.

        Reads are applied in the order their requests were sent (`observation.read_at`): a read sent
        before the one already recorded changes nothing and returns None (it is older news, however late
        it arrives) — unless it saw the job finished with the status already recorded, which is still
        true: then it is applied, status and stamp unchanged (the watcher's final read: last metrics).
        `now` is the time of recording, taken after the read: a stored stamp later than `now` means the
        clock went back, and is not trusted (the read is applied and its stamp replaces it).

        On a status change: bump the status sequence and enqueue one outbox row per reachable watching
        channel (transition "<seq>:<status>", payload `observation.details` plus previous, current, seq).
        Progress or snapshot changes bump the job version only (so cards are redrawn). Progress fields
        left None keep their stored value; the event id/time change only when a new event id is seen.
        Returns the change, or None when the status is the one already recorded (or the read was older).
        Raises `storage.errors.JobNotTrackedError` when the job is not tracked.

        The final read: a job recorded finished by any read but the watcher's final one
        (`observation.final_read`) stays due, from `now`, whatever `next_poll_at` says, until such a read
        is recorded (or `give_up_final_read`); a final read recorded ends its polling for good.
        """

    async def schedule_poll(self, job_id: str, *, next_poll_at: float) -> None: ...

    async def give_up_final_read(self, job_id: str) -> bool:
        """The API will not give back a finished job (deleted, say): its final read is not due any more,
        and its success note stops waiting for it. False when no final read was due."""

    async def note_unreadable(self, job_id: str, *, reason: str, now: float) -> bool:
        """Queue "I can't read this job" for its channels, once per status; True when something was queued."""

    async def note_stuck(self, job_id: str, *, now: float, read_at: float | None = None) -> bool:
        """Enqueue one "looks stuck" note per status sequence; False if already noted.

        `read_at`: when the read that found the job quiet was sent; nothing is noted when a newer read
        was recorded since (it may be paused or finished by now).
        Also bumps the job version (the card shows the mark). Raises `JobNotTrackedError` when untracked.
        """

    # the notifier -----------------------------------------------------------------------------------
    async def claim_due_outbox(
        self, *, now: float, limit: int, lease: float, final_read_wait: float = 0.0
    ) -> list[OutboxItem]:
        """Pending rows due by `now`, leased for `lease` seconds (attempts += 1), returned oldest first.

        The most overdue rows are taken first (for rows never retried that is the oldest).

        Order per (job, channel) is kept: a row is only claimed once every earlier row of the same job
        and channel is sent or given up, so a batch holds at most one row per (job, channel).

        A job's "succeeded" note waits for the job's final read (it brings the final losses the note
        shows) while that read is due, for at most `final_read_wait` seconds after it was enqueued.
        """

    async def claim_in_flight(self, *, now: float, limit: int, lease: float) -> list[OutboxItem]:
        """The start-up takeover: pending rows still claimed (in flight when the last process stopped),
        leased anew for `lease` seconds (attempts += 1) whatever their lease says, oldest first.

        A row is in flight from its claim (`claim_due_outbox`, or this) until `mark_sent`, `mark_retry` or
        `mark_given_up`; a row waiting out a retry (Slack's Retry-After, a backoff) is not in flight and is
        not returned. One notifier per database: a row still claimed when it starts was left by a process
        that stopped, and a lease is not worth waiting out.

        Order per (job, channel) is kept as `claim_due_outbox` keeps it: a row is not returned while an
        earlier row of the same job and channel is pending and not in flight itself.
        """

    async def mark_sent(self, item_id: int, *, ts: str, now: float) -> None:
        """Slack said ok: the row is done, with the message ts. A row already sent keeps its first ts."""

    async def mark_retry(self, item_id: int, *, error: str, next_attempt_at: float) -> None:
        """Delivery failed for now: try again at `next_attempt_at` (pending rows only)."""

    async def mark_given_up(self, item_id: int, *, error: str, now: float) -> None:
        """Delivery will never work: stop trying (pending rows only)."""

    async def mark_channel_unreachable(
        self, channel: str, *, reason: str, now: float, retry_at: float | None = None
    ) -> int:
        """Mark a channel the bot cannot post to (one more failure in a row), to be tried again at
        `retry_at` (default `now`); its pending rows wait until then; return how many."""

    async def channel_unreachable(self, channel: str) -> str | None:
        """The reason a channel was marked unreachable, or None."""

    async def unreachable_channel(self, channel: str) -> UnreachableChannel | None:
        """The channel's unreachable mark, or None."""

    async def clear_channel_unreachable(self, channel: str, *, now: float) -> bool:
        """The bot can post there again: drop the mark, and make the channel's waiting rows due `now`;
        False when there was no mark."""

    async def claim_unreachable_notice(self, channel: str) -> bool:
        """True once per mark: whoever gets it tells someone the channel is unreachable."""

    async def outbox_stats(self, *, now: float) -> OutboxStats: ...

    async def prune_delivered(self, *, before: float, now: float) -> int:
        """Housekeeping: delete the notifications of finished jobs sent or given up before `before`, and
        the delivery keys expired by `now`; return how many notifications were deleted.

        Pending rows, and every row of a job still running, are kept.
        """

    # audit and delivery de-duplication --------------------------------------------------------------
    async def record_audit(self, entry: AuditEntry) -> None: ...

    async def audit_for_job(self, job_id: str, *, limit: int = 50) -> list[AuditEntry]:
        """Newest first."""

    async def remember_delivery(self, key: str, *, now: float, ttl: float) -> bool:
        """True the first time `key` is seen within its ttl; False for a repeat. Prunes expired keys."""

    # subscriptions, discovery, channel settings -------------------------------------------------------
    async def add_subscription(
        self, channel: str, *, user: str, job_filter: JobFilter, now: float
    ) -> Subscription: ...

    async def channel_subscriptions(self, channel: str) -> list[Subscription]:
        """The channel's subscriptions, oldest first (the numbers `unsubscribe` takes follow this order)."""

    async def all_subscriptions(self) -> list[Subscription]: ...

    async def remove_subscriptions(self, channel: str, ids: Collection[int]) -> int:
        """Delete these subscriptions of the channel; how many went. Jobs already followed stay followed."""

    async def known_jobs(self, job_ids: Sequence[str]) -> set[str]:
        """The ids among `job_ids` that discovery met before (tracked or not)."""

    async def remember_seen(self, job_ids: Sequence[str], *, now: float) -> None:
        """Discovery met these jobs on a list page."""

    async def tracked_among(self, job_ids: Sequence[str]) -> list[TrackedJob]:
        """The unfinished jobs among `job_ids` that some channel follows."""

    async def follows_parked_jobs(self) -> bool:
        """Some channel follows a paused (or pausing) job: the watcher reads a list page each interval."""

    async def set_watch_filter(self, job_id: str, channel: str, told: frozenset[str] | None) -> None:
        """The statuses whose changes `channel` hears of the job (None: every change)."""

    async def watch_filter(self, job_id: str, channel: str) -> frozenset[str] | None: ...

    async def channel_settings(self, channel: str) -> ChannelSettings:
        """The channel's settings, or the defaults."""

    async def save_channel_settings(
        self, channel: str, settings: ChannelSettings, *, user: str, now: float
    ) -> None: ...

    async def enqueue_progress(
        self, job_id: str, mark: int, *, choices: Sequence[str], payload: Mapping[str, object], now: float
    ) -> int:
        """Queue the progress note of `mark` % for every channel following the job whose settings' progress
        choice is one of `choices` (once per channel); how many were queued."""

    async def audit_for_channel(self, channel: str | None, *, limit: int = 20) -> list[AuditEntry]:
        """The channel's entries (every channel's with None), newest first."""

    # webhook deliveries ------------------------------------------------------------------------------
    async def take_webhook(self, webhook_id: str, *, job_id: str, now: float, keep_for: float) -> WebhookTake:
        """Take a verified delivery about `job_id` once: the first time its id is seen (within `keep_for`
        seconds), a followed job not read to its end yet is made due at once (`READ_NOW`); a repeat, a job
        nobody follows and one already done with are left alone. All in one transaction."""

    # models leaving the API (storage/retirements.py) ----------------------------------------------------
    async def succeeded_jobs_by_channel(self, *, limit: int = 5000) -> list[tuple[str, TrackedJob]]:
        """(channel, job) for every succeeded job a channel follows, newest jobs first."""

    async def note_shutdown(self, job_id: str, shutdown_date: str) -> bool:
        """Keep the shutdown date on the job's snapshot (its cards are redrawn); False if it was there."""

    async def queue_shutdown_notice(
        self, channel: str, key: str, payload: dict[str, object], *, now: float
    ) -> bool:
        """Queue the channel's notice under `key` unless it ever was (once per channel, across restarts)."""
