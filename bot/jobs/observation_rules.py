"""What recording a read of a job changes, and which notes the change gives: pure rules on job records.

The watcher and the jobs service both read jobs from the API and record what they saw, each on its own
schedule, so a poll that read `running` can arrive after a Pause click recorded `paused`. Reads are
therefore applied in the order their requests were SENT: a read sent before the one recorded is older
news and is dropped. Storage reads the stored job, asks these rules, and writes their answer together
with the notes in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.finetune.models import TERMINAL_STATUSES
from bot.jobs.records import Observation, Progress, TrackedJob


@dataclass(frozen=True)
class StoredJob:
    """A tracked job as stored, with the two facts the rules need that `TrackedJob` does not carry."""

    job: TrackedJob
    read_at: float | None  # when the request of the read recorded last was sent; None: not known
    final_read_due: bool  # finished, and the watcher's final read (its last figures) is still to come


@dataclass(frozen=True)
class Note:
    """A notification for every channel following the job; a channel gets one note per `transition`."""

    transition: str  # "<seq>:<status>" or "stuck:<seq>"
    kind: str  # "status" or "stuck"
    payload: dict[str, object]


@dataclass(frozen=True)
class JobUpdate:
    """What recording one read writes to the job, and the note its status change gives (if it changed)."""

    status: str
    status_seq: int
    final_read_due: bool
    progress: Progress
    last_event_id: str | None
    last_event_at: float | None
    snapshot: dict[str, object]
    read_at: float
    next_poll_at: float
    shown_changed: bool  # something a card shows changed: the job's version moves and cards are redrawn
    note: Note | None


def is_finished(status: str) -> bool:
    """A finished job never changes again; every other status, known or not, keeps being polled."""
    return status in TERMINAL_STATUSES


def is_older_read(read_at: float, applied_read_at: float | None, *, now: float) -> bool:
    """True when a read sent at `read_at` is older than the read already applied.

    Nothing applied yet (None) makes any read new. An applied read stamped later than `now` means the clock
    went back since (times are the wall clock): that stamp is not trusted, so the read is taken rather than
    every read being dropped until the clock catches up.
    """
    return applied_read_at is not None and read_at < applied_read_at <= now


def is_superseded(observation: Observation, stored: StoredJob, *, now: float) -> bool:
    """True when `observation` must be dropped: a newer read of the job was recorded before it.

    Except an older read that saw the job finished with the status already recorded: that is still true,
    and it is often the watcher's final read (the final losses) overtaken by a Refresh; dropping it would
    lose those figures for good.
    """
    if not is_older_read(observation.read_at, stored.read_at, now=now):
        return False
    return not (is_finished(stored.job.status) and observation.status == stored.job.status)


def final_read_due_when_tracked(status: str) -> bool:
    """A job tracked already finished is still read once by the watcher, for its last figures."""
    return is_finished(status)


def final_read_due(stored: StoredJob, observation: Observation) -> bool:
    """Whether the job awaits the watcher's final read once `observation` is recorded."""
    if not is_finished(observation.status) or observation.final_read:
        return False
    # Seen finished by another read first (a Refresh, a Cancel's answer): the final read is still to come.
    return stored.final_read_due or not is_finished(stored.job.status)


def merge_progress(stored: Progress, seen: Progress) -> Progress:
    """What a read saw, with the fields it did not see kept from what was stored."""
    return Progress(
        step=seen.step if seen.step is not None else stored.step,
        total_steps=seen.total_steps if seen.total_steps is not None else stored.total_steps,
        train_loss=seen.train_loss if seen.train_loss is not None else stored.train_loss,
        valid_loss=seen.valid_loss if seen.valid_loss is not None else stored.valid_loss,
        estimated_finish=(
            seen.estimated_finish if seen.estimated_finish is not None else stored.estimated_finish
        ),
    )


def apply_observation(
    stored: StoredJob, observation: Observation, *, now: float, next_poll_at: float
) -> JobUpdate | None:
    """What recording `observation` at `now` changes; None when it is older news and changes nothing."""
    if is_superseded(observation, stored, now=now):
        return None
    job = stored.job
    read_at = observation.read_at
    if stored.read_at is not None and is_older_read(read_at, stored.read_at, now=now):
        read_at = stored.read_at  # a finished job's older read is applied (see is_superseded), not its stamp
    progress = merge_progress(job.progress, observation.progress)
    event_id, event_at = job.last_event_id, job.last_event_at
    if observation.last_event_id is not None and observation.last_event_id != job.last_event_id:
        event_id = observation.last_event_id
        event_at = observation.last_event_at if observation.last_event_at is not None else now
    due = final_read_due(stored, observation)
    status_changed = observation.status != job.status
    seq = job.status_seq + 1 if status_changed else job.status_seq
    note = None
    if status_changed:
        # Our keys last: details cannot disguise which transition this is.
        payload = {**observation.details, "previous": job.status, "current": observation.status, "seq": seq}
        note = Note(transition=f"{seq}:{observation.status}", kind="status", payload=payload)
    return JobUpdate(
        status=observation.status,
        status_seq=seq,
        final_read_due=due,
        progress=progress,
        last_event_id=event_id,
        last_event_at=event_at,
        snapshot=observation.snapshot,
        read_at=read_at,
        next_poll_at=min(next_poll_at, now) if due else next_poll_at,  # due: read at the next cycle
        # Anything a card shows: its status, its progress, or the job object it is drawn from.
        shown_changed=status_changed or progress != job.progress or observation.snapshot != job.snapshot,
        note=note,
    )


def unreadable_note(stored: StoredJob, *, reason: str) -> Note | None:
    """The "I can't read this job" note: once per status sequence, never for a finished job.

    The outbox is unique on the transition, so asking again while the job stays unreadable in the same
    status adds nothing; a job that is read again and then fails in a later status is told again.
    """
    job = stored.job
    if job.status in TERMINAL_STATUSES:
        return None
    payload: dict[str, object] = {"status": job.status, "seq": job.status_seq, "reason": reason[:500]}
    return Note(transition=f"unreadable:{job.status_seq}", kind="unreadable", payload=payload)


def stuck_note(stored: StoredJob, *, now: float, read_at: float | None = None) -> Note | None:
    """The "looks stuck" note for the job's current status, or None when there must be none.

    One per status sequence; none when the read that found the job quiet (sent at `read_at`) is older
    than one recorded since: the job may be paused or finished by now.
    """
    job = stored.job
    if job.stuck_noted:
        return None
    if read_at is not None and is_older_read(read_at, stored.read_at, now=now):
        return None
    payload: dict[str, object] = {
        "status": job.status,
        "seq": job.status_seq,
        "last_event_at": job.last_event_at,
    }
    return Note(transition=f"stuck:{job.status_seq}", kind="stuck", payload=payload)
