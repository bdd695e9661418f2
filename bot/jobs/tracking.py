"""Start tracking a job the API just described, with no channel following it yet.

The caller posts its card, then makes a channel follow it (`ChannelCards.post_then_watch`): until then the
job is neither polled nor notified about, so the notifier cannot post a second card. Its first poll waits
its normal turn, set in the same transaction. Used by a create, by adoption and by discovery.
"""

from __future__ import annotations

from bot.finetune.models import FineTuningJob
from bot.jobs.records import NewJob, Origin, TrackedJob
from bot.services import Services
from bot.watch.poll_policy import PollPolicy


async def track_unwatched(
    services: Services,
    polls: PollPolicy,
    job: FineTuningJob,
    *,
    owner: str,
    creator: str | None,
    origin: Origin,
    read_at: float,
    now: float,
) -> TrackedJob:
    snapshot: dict[str, object] = job.model_dump(mode="json")
    tracked, _ = await services.store.track_job(
        NewJob(
            job_id=job.id,
            provider=services.provider,
            owner_channel=owner,
            creator=creator,
            origin=origin,
            status=job.status,
            model=job.model,
            suffix=job.suffix,
            snapshot=snapshot,
            read_at=read_at,
        ),
        now=now,
        next_poll_at=polls.next_poll_at(job.status, now),
        owner_watch=False,
    )
    return tracked
