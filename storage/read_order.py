"""Which of two reads of a job is the newer: the one whose request was sent later.

The watcher and the jobs service both read a job from the API and record what they saw, each on its own
schedule: a poll that read `running` can reach storage after a Pause click recorded `paused`. Recording
the poll then would tell the channel "running" and, at the next poll, "paused" again. So each recorded
read keeps when its request was sent (`jobs.read_at`), and a read sent before it is dropped.
"""

from __future__ import annotations

from bot.jobs.records import Observation
from storage.rows import is_terminal


def is_older_read(read_at: float, applied_read_at: float | None, *, now: float) -> bool:
    """True when a read sent at `read_at` is older than the read already applied.

    Nothing applied yet (None) makes any read new. An applied read stamped later than `now` means the clock
    went back since (times are the wall clock): the stored stamp is then not trusted, so the read is taken
    rather than every read being dropped until the clock catches up again.
    """
    return applied_read_at is not None and read_at < applied_read_at <= now


def is_superseded(
    observation: Observation, stored_status: str, applied_read_at: float | None, *, now: float
) -> bool:
    """True when `observation` must be dropped: a newer read of the job was recorded before it.

    Except an older read that saw the job finished with the status already recorded: a finished job never
    changes, so that read is still true, and it is often the watcher's final read (the last metrics, the
    final losses) overtaken by someone's Refresh; dropping it would lose them for good.
    """
    if not is_older_read(observation.read_at, applied_read_at, now=now):
        return False
    return not (is_terminal(stored_status) and observation.status == stored_status)
