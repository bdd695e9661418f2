"""What a channel's daily digest says: the jobs it follows that finished in the window (failures first,
with model ids, durations and cost) and those running now with their progress. Drawn once, when the
digest is queued: the queued payload is what is posted, however late or often the delivery is tried."""

from __future__ import annotations

from bot.finetune.models import FineTuningJob
from bot.jobs.prices import PriceTable
from bot.jobs.records import TrackedJob
from bot.views.card import job_from_tracked
from storage.store import Store

MAX_CHANNEL_JOBS = 500


def _finished_at(job: FineTuningJob, tracked: TrackedJob) -> float:
    return float(job.finished_at) if job.finished_at else tracked.updated_at


async def digest_payload(
    store: Store, prices: PriceTable, channel: str, *, since: float, until: float, day: str, zone: str
) -> dict[str, object]:
    finished: list[tuple[float, dict[str, object]]] = []
    running: list[dict[str, object]] = []
    total_cost = 0.0
    for tracked in await store.channel_jobs(channel, limit=MAX_CHANNEL_JOBS):
        job = job_from_tracked(tracked)
        if job.is_terminal:
            ended = _finished_at(job, tracked)
            if not since < ended <= until:
                continue
            cost = prices.cost(tracked.model or job.model, job.trained_tokens)
            if cost is not None:
                total_cost += cost.usd
            finished.append(
                (
                    ended,
                    {
                        "job_id": tracked.job_id,
                        "status": job.status,
                        "model": tracked.model or job.model,
                        "fine_tuned_model": job.fine_tuned_model,
                        "duration": ended - job.created_at if job.created_at else None,
                        "cost": cost.usd if cost is not None else None,
                        "error": (job.error.message or job.error.code) if job.error else None,
                    },
                )
            )
        else:
            running.append(
                {
                    "job_id": tracked.job_id,
                    "status": job.status,
                    "model": tracked.model or job.model,
                    "step": tracked.progress.step,
                    "total_steps": tracked.progress.total_steps,
                }
            )
    finished.sort(key=lambda pair: (pair[1]["status"] != "failed", pair[0]))
    return {
        "date": day,
        "zone": zone,
        "since": since,
        "until": until,
        "finished": [item for _, item in finished],
        "running": running,
        "total_cost": round(total_cost, 6),
    }
