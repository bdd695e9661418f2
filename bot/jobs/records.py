"""The job domain's records: plain frozen dataclasses that storage reads and writes and the views show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Origin(StrEnum):
    """How a job came to be tracked."""

    COMMAND = "command"
    FORM = "form"
    WATCH = "watch"
    SUBSCRIPTION = "subscription"  # found by a channel's subscription (started outside Slack)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    GIVEN_UP = "given_up"


@dataclass(frozen=True)
class Progress:
    """The latest figures read from a job's metrics events."""

    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    estimated_finish: int | None = None

    @property
    def fraction(self) -> float | None:
        if self.step is None or not self.total_steps:
            return None
        return max(0.0, min(1.0, self.step / self.total_steps))


@dataclass(frozen=True)
class NewJob:
    """A job to start tracking (created from Slack, or adopted with `watch`)."""

    job_id: str
    provider: str
    owner_channel: str
    creator: str | None
    origin: Origin
    status: str
    model: str = ""
    suffix: str | None = None
    snapshot: dict[str, object] = field(default_factory=dict)  # the API's job object as last read
    # When the request that returned `snapshot` was sent (see `Observation.read_at`); None: not known, so
    # the first observation recorded is taken whatever its age.
    read_at: float | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class TrackedJob:
    job_id: str
    provider: str
    owner_channel: str
    creator: str | None
    origin: Origin
    status: str
    status_seq: int  # how many status changes have been recorded; part of each transition's key
    model: str
    suffix: str | None
    last_event_id: str | None
    last_event_at: float | None  # when the newest event was first seen (for "looks stuck")
    progress: Progress
    version: int  # bumped on every change a card shows (status or progress)
    next_poll_at: float
    stuck_noted: bool
    snapshot: dict[str, object]  # the API's job object as last read: cards are drawn from it
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Watch:
    """A channel following a job: its owner channel or one added with `watch`."""

    job_id: str
    channel: str
    added_by: str | None
    is_owner: bool
    card_ts: str | None  # the job card message in this channel, once posted
    card_version: int  # the job version the card last showed
    card_updated_at: float | None
    created_at: float


@dataclass(frozen=True)
class CardToRefresh:
    watch: Watch
    job: TrackedJob


@dataclass(frozen=True)
class Observation:
    """What one poll (or an action's API answer) saw of a job.

    `read_at` is when the request that read the job was SENT (the caller's clock, taken before the call).
    Storage applies reads in that order: a read that started before the one already recorded is older
    news however late it arrives, and is dropped. It has no default on purpose: defaulting to the
    recording time would make a forgotten read look like the newest one, which is the very race it
    prevents (a slow poll's "running" recorded over a Pause click's "paused").
    """

    status: str
    progress: Progress  # fields left None keep their stored value
    snapshot: dict[str, object]  # the API's job object
    last_event_id: str | None = None  # newest event read, when events were read
    last_event_at: float | None = None  # when that newest event was first seen
    details: dict[str, object] = field(default_factory=dict)  # for the notes: actor, error, model…
    read_at: float = field(kw_only=True)
    # The watcher's final read of a finished job: its last metrics events (and results file) were read
    # with it. Once one is recorded the job is never polled again; a finished status recorded by any
    # other read (a Refresh, a Cancel's answer) leaves the job due for it.
    final_read: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class StatusChange:
    job_id: str
    previous: str
    current: str
    seq: int
    outbox_ids: tuple[int, ...]


@dataclass(frozen=True)
class OutboxItem:
    id: int
    job_id: str
    channel: str
    transition: str  # unique per (job, channel): "<seq>:<status>", "stuck:<seq>" or "unreadable:<seq>"
    kind: str  # "status", "stuck" or "unreadable"
    payload: dict[str, object]  # what the note needs: previous/current status, actor, details
    state: OutboxState
    attempts: int
    next_attempt_at: float
    slack_ts: str | None
    last_error: str | None
    created_at: float


@dataclass(frozen=True)
class AuditEntry:
    at: float
    user: str
    channel: str
    action: str
    job_id: str | None
    allowed: bool
    reason: str | None = None
    result: str | None = None


@dataclass(frozen=True)
class UnreachableChannel:
    """A channel the bot could not post to: why, how many times in a row, when to try it again, and
    whether someone was told."""

    channel: str
    reason: str
    failures: int
    retry_at: float
    told: bool


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    oldest_pending_age: float | None
    given_up: int


@dataclass(frozen=True)
class CreateIntent:
    """A create recorded before its API call: the job the API starts carries `intent_id` in its metadata."""

    intent_id: str
    user: str
    channel: str
    origin: str
    created_at: float


class WebhookTake(StrEnum):
    """What a verified webhook delivery about a job did (deliveries come at least once, in any order)."""

    READ_NOW = "read_now"  # the job is due for a read at once, through the watcher like any poll
    REPEAT = "repeat"  # this delivery (its webhook-id) was taken before: nothing more to do
    UNKNOWN_JOB = "unknown_job"  # no channel follows the job: acknowledged and ignored
    DONE_WITH = "done_with"  # the job's end was read and told already
