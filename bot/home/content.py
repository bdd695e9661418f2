"""What a person's Home tab shows: their own jobs (running first, then the last finished, with result and
cost), the active jobs of the channels they are in, and for each job the buttons the policy lets them use."""

from __future__ import annotations

from dataclasses import dataclass

from bot.finetune.models import FineTuningJob
from bot.jobs.actions import Action
from bot.jobs.permissions import Policy
from bot.jobs.prices import Cost, PriceTable
from bot.jobs.records import TrackedJob
from bot.views.card import job_from_tracked
from storage.store import Store

MAX_OWN_ACTIVE = 25
MAX_OWN_FINISHED = 5
MAX_CHANNEL_JOBS = 10
MAX_CHANNELS = 50


@dataclass(frozen=True)
class HomeJob:
    tracked: TrackedJob
    job: FineTuningJob
    cost: Cost | None
    # The buttons this person may use on this job now, in card order (Refresh is always there).
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class HomeContent:
    user: str
    running: list[HomeJob]
    finished: list[HomeJob]
    channels: list[tuple[str, list[HomeJob]]]  # channel id, its active jobs not started by this person

    @property
    def empty(self) -> bool:
        return not (self.running or self.finished or self.channels)


def allowed_actions(policy: Policy, user: str, tracked: TrackedJob, job: FineTuningJob) -> tuple[Action, ...]:
    """The buttons the job's state offers (as on its card), kept to those the policy allows this person.
    A click from the Home tab acts in the job's own channel, so that is where the policy is asked."""
    offered: list[Action] = []
    if job.status == "running":
        offered.append(Action.PAUSE)
    elif job.status == "paused":
        offered.append(Action.RESUME)
    if not job.is_terminal:
        offered.append(Action.CANCEL)
    allowed = [
        action
        for action in offered
        if policy.decide(
            action=action, user=user, channel=tracked.owner_channel, job=tracked, channel_watches=True
        ).allowed
    ]
    return (*allowed, Action.REFRESH)


async def home_content(
    store: Store, policy: Policy, prices: PriceTable, user: str, channels: list[str]
) -> HomeContent:
    def entry(tracked: TrackedJob) -> HomeJob:
        job = job_from_tracked(tracked)
        cost = prices.cost(tracked.model or job.model, job.trained_tokens) if job.is_terminal else None
        return HomeJob(tracked, job, cost, allowed_actions(policy, user, tracked, job))

    running = [entry(t) for t in await store.jobs_of_creator(user, active=True, limit=MAX_OWN_ACTIVE)]
    finished = [entry(t) for t in await store.jobs_of_creator(user, active=False, limit=MAX_OWN_FINISHED)]
    shown = {item.tracked.job_id for item in running}
    by_channel: list[tuple[str, list[HomeJob]]] = []
    for channel in channels[:MAX_CHANNELS]:
        jobs = [
            entry(t)
            for t in await store.channel_jobs(channel, active_only=True, limit=MAX_CHANNEL_JOBS)
            if t.creator != user and t.job_id not in shown
        ]
        shown.update(item.tracked.job_id for item in jobs)
        if jobs:
            by_channel.append((channel, jobs))
    return HomeContent(user=user, running=running, finished=finished, channels=by_channel)
