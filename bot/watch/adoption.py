"""Finish the creates cut short: find their jobs in the API's list by intent tag, and do the rest once.

Run by the watcher each cycle (the first one right after start). Closing the intent is the last step, so
a crash half-way repeats only what is idempotent (tracking) and the card is posted once (`post_then_watch`
is skipped when the owner channel already follows the job).
"""

from __future__ import annotations

import logging

from bot.finetune.errors import FineTuneError
from bot.finetune.models import FineTuningJob
from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.audit import AuditLog
from bot.jobs.creator import creator_from_metadata
from bot.jobs.intents import GIVE_UP_AFTER, INTENT_METADATA_KEY
from bot.jobs.records import CreateIntent, Origin
from bot.jobs.tracking import track_unwatched
from bot.notify.cards import ChannelCards
from bot.services import Services
from bot.views.card import card_for
from bot.watch.poll_policy import PollPolicy
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


class Adoption:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._cards = ChannelCards(services)
        self._audit = AuditLog(services.store, services.clock)
        self._polls = PollPolicy(interval=services.settings.poll_interval)

    async def run(self) -> int:
        """Adopt what can be; how many jobs were adopted. Errors are logged, the intent stays open."""
        adopted = 0
        now = self._services.clock()
        for intent in await self._services.store.open_intents():
            if intent.intent_id in self._services.creates_under_way:
                continue  # this process's create is still doing it
            try:
                adopted += await self._adopt(intent, now)
            except (FineTuneError, DatabaseUnavailable) as error:
                log.warning("could not finish create intent %s yet (%s)", intent.intent_id, error)
        return adopted

    async def _adopt(self, intent: CreateIntent, now: float) -> int:
        job = await self._find(intent.intent_id)
        store = self._services.store
        if job is None:
            if now - intent.created_at > GIVE_UP_AFTER:
                await store.close_intent(intent.intent_id, job_id=None, result="no job found", now=now)
            return 0
        actor = Actor(user=intent.user, channel=intent.channel)
        tracked = await track_unwatched(
            self._services,
            self._polls,
            job,
            owner=intent.channel,
            creator=creator_from_metadata(job) or intent.user,
            origin=Origin(intent.origin),
            read_at=now,
            now=now,
        )
        problem = None
        if await store.get_watch(job.id, intent.channel) is None:
            problem = await self._cards.post_then_watch(tracked, actor, card_for(tracked, now))
        result = f"created ({job.status}); tracked after the create was cut short" + (
            f"; card not posted: {problem}" if problem else ""
        )
        if await store.close_intent(intent.intent_id, job_id=job.id, result=result, now=now):
            await self._audit.write(Action.CREATE, actor, job.id, allowed=True, result=result)
            log.info("adopted job %s of create intent %s", job.id, intent.intent_id)
        return 1

    async def _find(self, intent_id: str) -> FineTuningJob | None:
        page = await self._services.api.list_jobs(metadata={INTENT_METADATA_KEY: intent_id}, limit=10)
        for job in page.data:
            if (job.metadata or {}).get(INTENT_METADATA_KEY) == intent_id:
                return job
        return None
