"""Models leaving the API: read `GET /models` now and then, and for every succeeded job a channel follows
whose model (or base model) has a `shutdown_date`, put the date on its card and, some weeks before, tell
the channel once.

OpenAI takes gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4.1-mini off its API on 2027-01-14, and with them the
models fine-tuned on them; `GET /models` says so in `shutdown_date` (a date, or unix seconds). The date is
kept on the job's stored snapshot, which the card is drawn from; a new read of the job (Refresh) may drop
it until the next pass puts it back. The notice is a channel post keyed by the date, so a channel hears of
one date once, whatever restarts happen in between; the schedule loop delivers it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from bot.finetune.errors import FineTuneError
from bot.finetune.models import ModelObject
from bot.ops.waiting import wait_any
from bot.services import Services

log = logging.getLogger(__name__)

CHECK_EVERY = 6 * 3600.0
# The channel hears this long before the day (a notice earlier than that is easily forgotten).
NOTICE_DAYS = 56
MAX_LISTED = 10


def shutdown_day(value: str | int | None) -> dt.date | None:
    """`2027-01-14`, an ISO timestamp, or unix seconds, as a date (UTC); None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC).date()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def shutdown_dates(models: list[ModelObject]) -> dict[str, dt.date]:
    found = {model.id: shutdown_day(model.shutdown_date) for model in models}
    return {name: day for name, day in found.items() if day is not None}


def notice_key(day: dt.date) -> str:
    return f"shutdown:{day.isoformat()}"


class RetirementWatch:
    def __init__(self, services: Services, *, every: float = CHECK_EVERY) -> None:
        self._services = services
        self._every = every

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.run_once()
            except FineTuneError as error:  # the API is down: the next pass tries again
                log.warning("could not read the models' shutdown dates: %s", error)
            await wait_any(stopping, seconds=self._every)

    async def run_once(self, *, today: dt.date | None = None) -> tuple[int, int]:
        """One pass; returns (cards given a date, channels given a notice)."""
        store = self._services.store
        now = self._services.clock()
        today = today or dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
        dates = shutdown_dates(await self._services.api.list_models())
        if not dates:
            return 0, 0
        dated = 0
        per_channel: dict[tuple[str, dt.date], list[tuple[str, str]]] = {}
        for channel, job in await store.succeeded_jobs_by_channel():
            model = str(job.snapshot.get("fine_tuned_model") or "")
            day = dates.get(model) or dates.get(job.model)
            if day is None or day < today:
                continue
            if await store.note_shutdown(job.job_id, day.isoformat()):
                dated += 1
            per_channel.setdefault((channel, day), []).append((job.job_id, model or job.model))
        told = 0
        for (channel, day), jobs in per_channel.items():
            if (day - today).days > NOTICE_DAYS:
                continue
            payload: dict[str, object] = {
                "date": day.isoformat(),
                "jobs": [{"job_id": job_id, "model": model} for job_id, model in jobs[:MAX_LISTED]],
                "more": max(0, len(jobs) - MAX_LISTED),
            }
            if await store.queue_shutdown_notice(channel, notice_key(day), payload, now=now):
                told += 1
        if dated or told:
            log.info("models leaving the API: %d cards dated, %d channels told", dated, told)
        return dated, told
