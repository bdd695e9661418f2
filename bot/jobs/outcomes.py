"""What each job operation did, as plain data: the handlers choose the words and blocks that say it.

An operation that fails raises instead (the error boundary explains it); a refusal never gets this far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.finetune.models import Checkpoint, FineTuningJob, JobEvent
from bot.jobs.actions import Action, ControlAction
from bot.jobs.records import TrackedJob


@dataclass(frozen=True)
class CardNotPosted:
    """Slack would not take the job's card in the channel."""

    problem: str  # Slack's error code, e.g. "not_in_channel"
    unreachable: bool  # the bot cannot post there at all until invited (or the channel is archived)


@dataclass(frozen=True)
class Started:
    """A job was created and is tracked; its channel follows it."""

    tracked: TrackedJob
    channel: str | None  # the job's channel, named when the answer may be read elsewhere (a form's)
    card_not_posted: CardNotPosted | None = None


@dataclass(frozen=True)
class StartedWithoutCard:
    """Shutdown came after the job was started and tracked, before its card was posted."""

    job_id: str
    status: str
    channel: str | None


@dataclass(frozen=True)
class MaybeStarted:
    """Shutdown came before the API answered the create: the job may have started."""

    channel: str | None


CreateOutcome = Started | StartedWithoutCard | MaybeStarted


@dataclass(frozen=True)
class Followed:
    """`watch`: this channel follows the job, with its card (or the reason it has none)."""

    tracked: TrackedJob
    already: bool  # the channel already followed it, and its card there was brought up to date
    card_not_posted: CardNotPosted | None = None


@dataclass(frozen=True)
class Unfollowed:
    """`unwatch`: the channel no longer follows the job (`was_following` False: it never did)."""

    job_id: str
    was_following: bool


@dataclass(frozen=True)
class StatusShown:
    """The job as the API sees it now; `tracked` is how it is recorded, when TuneOps tracks it."""

    job: FineTuningJob
    tracked: TrackedJob | None


@dataclass(frozen=True)
class EventsShown:
    job_id: str
    events: Sequence[JobEvent]


@dataclass(frozen=True)
class CheckpointsShown:
    job_id: str
    checkpoints: Sequence[Checkpoint]


@dataclass(frozen=True)
class ChartPosted:
    """`chart`: whether a curve was posted (False: the job has no figures yet), and where."""

    job_id: str
    posted: bool
    in_thread: bool


@dataclass(frozen=True)
class ActionDone:
    """A pause, resume, cancel or refresh: the job as the API answered it, and whether its card in the
    channel was edited in place."""

    action: ControlAction | Literal[Action.REFRESH]
    job: FineTuningJob
    tracked: TrackedJob | None
    card_updated: bool


@dataclass(frozen=True)
class ActionNotSent:
    """A pause, resume or cancel that was not sent to the API: the same one is under way for this job
    (concurrent clicks make one call), or the job has finished and nothing can change it."""

    action: ControlAction
    job_id: str
    why: Literal["under_way", "finished"]
    status: str | None = None  # the finished job's status


ControlOutcome = ActionDone | ActionNotSent
