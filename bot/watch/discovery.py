"""Discovery: the jobs started anywhere (a pipeline, a notebook, the dashboard) that subscriptions follow.

Once per poll interval the watcher asks this module to read the API's job list, newest first, until a page
holds a job it met before (or the jobs get older than every subscription): one request in the steady
state, whatever the number of jobs. A job never met before that a channel's subscriptions match is
tracked, gets its card in that channel (one card per channel however many subscriptions match) and from
then on is polled like any job; the statuses those subscriptions ask for (`only=`) are remembered for the
notifier. Jobs created before a subscription are not announced by it.

Every page read is handed back to the watcher: a job it follows that is on the page is recorded from it at
once, so a paused job cancelled from the dashboard is told within one interval, not when its own slow poll
comes round. With no subscription, a page is still read each interval while some followed job is paused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from bot.finetune.errors import FineTuneError
from bot.finetune.models import FineTuningJob
from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.audit import AuditLog
from bot.jobs.creator import creator_of
from bot.jobs.intents import INTENT_METADATA_KEY
from bot.jobs.records import Origin
from bot.jobs.subscriptions import Subscription, by_channel, told_statuses
from bot.jobs.tracking import track_unwatched
from bot.notify.cards import ChannelCards
from bot.notify.people import SlackPeople
from bot.services import Services
from bot.views.card import card_for
from bot.watch.poll_policy import PollPolicy
from bot.watch.reads import ApiReader, ApiTrouble, JobRead
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

# A job carrying a create's tag this young is left to its create (or to adoption) to track and card.
CREATE_GRACE = 120.0

DISCOVERY_PAGE_SIZE = 100  # the API's largest page: one request covers the newest hundred jobs
DISCOVERY_MAX_PAGES = 5  # a first pass over a busy account stops here; later passes need one page


@dataclass
class DiscoveryPass:
    """What one pass read: every job on its pages (with when each page was asked for), and what came of it."""

    reads: dict[str, JobRead] = field(default_factory=dict)
    pages: int = 0
    announced: int = 0  # jobs that got a card in at least one channel
    # Where the pages read stop (the list goes on after this job), for the watcher to read on from.
    continue_after: str | None = None


class Discovery:
    def __init__(
        self,
        services: Services,
        reader: ApiReader,
        *,
        page_size: int = DISCOVERY_PAGE_SIZE,
        max_pages: int = DISCOVERY_MAX_PAGES,
    ) -> None:
        self._services = services
        self._reader = reader
        self._page_size = page_size
        self._max_pages = max_pages
        self._interval = services.settings.poll_interval
        self._next_at = float("-inf")
        self._cards = ChannelCards(services)
        self._people = SlackPeople(services)
        self._audit = AuditLog(services.store, services.clock)
        self._polls = PollPolicy(interval=services.settings.poll_interval)

    async def run(self, now: float) -> DiscoveryPass | None:
        """A pass when one is due (once per poll interval) and worth it; None otherwise. A list the API
        refuses or fails is logged and tried again next interval (the watcher's own reads see outages)."""
        if now < self._next_at:
            return None
        self._next_at = now + self._interval
        store = self._services.store
        subscriptions = await store.all_subscriptions()
        if not subscriptions and not await store.follows_parked_jobs():
            return None
        found = DiscoveryPass()
        try:
            new = await self._read_pages(subscriptions, found)
        except (FineTuneError, ApiTrouble) as error:
            log.info("could not read the job list for subscriptions (%s)", error)
            return found
        done: list[str] = []
        for job in reversed(new):  # oldest first: cards appear in the order the jobs were started
            outcome = await self._announce(job, subscriptions, now)
            found.announced += outcome == "announced"
            if outcome != "later":
                done.append(job.id)
        await store.remember_seen(done, now=now)
        return found

    async def _read_pages(
        self, subscriptions: list[Subscription], found: DiscoveryPass
    ) -> list[FineTuningJob]:
        """Pages newest first until one holds a job met before; the jobs never met, newest first."""
        store = self._services.store
        oldest = min((int(s.created_at) for s in subscriptions), default=None)
        new: list[FineTuningJob] = []
        after: str | None = None
        while found.pages < self._max_pages:
            page, read_at = await self._reader.call_stamped(
                self._services.api.list_jobs(after=after, limit=self._page_size)
            )
            found.pages += 1
            found.continue_after = page.last_id if page.has_more and page.data else None
            known = await store.known_jobs([job.id for job in page.data])
            for job in page.data:
                found.reads[job.id] = JobRead(job, read_at)
                if job.id not in known:
                    new.append(job)
            if known or oldest is None or not page.has_more or not page.data or not page.last_id:
                break
            if page.data[-1].created_at < oldest:
                break  # older than every subscription: nothing further back is announced
            after = page.last_id
        return new

    def _not_yet(self, job: FineTuningJob, now: float) -> bool:
        """A job just created from Slack (it carries a create's tag) that this TuneOps has not tracked yet:
        its create is about to; met again next pass rather than announced on its own meanwhile. A create
        this process is still carrying out waits however long it takes (a slow machine, a slow API)."""
        intent = (job.metadata or {}).get(INTENT_METADATA_KEY)
        if intent is None:
            return False
        return intent in self._services.creates_under_way or now - job.created_at < CREATE_GRACE

    async def _announce(
        self, job: FineTuningJob, subscriptions: list[Subscription], now: float
    ) -> Literal["announced", "passed", "later"]:
        """Follow the job in every channel whose subscriptions match it; "later" when it is to be met
        again next pass (its create is under way, or the database failed)."""
        matching = by_channel(subscriptions, job)
        if not matching:
            return "passed"
        store = self._services.store
        tracked = await store.get_job(job.id)
        if tracked is None and self._not_yet(job, now):
            return "later"
        try:
            if tracked is None:
                tracked = await track_unwatched(
                    self._services,
                    self._polls,
                    job,
                    owner=next(iter(matching)),
                    creator=await creator_of(job, self._people.by_email),
                    origin=Origin.SUBSCRIPTION,
                    read_at=now,
                    now=now,
                )
            announced = False
            for channel, subscribed in matching.items():
                if await store.get_watch(job.id, channel) is not None:
                    continue  # created or watched here already: its card is here, and it hears everything
                # Before the watch exists, so no note reaches the channel unfiltered.
                await store.set_watch_filter(job.id, channel, told_statuses(subscribed))
                actor = Actor(user=subscribed[0].user, channel=channel)
                problem = await self._cards.post_then_watch(tracked, actor, card_for(tracked, now))
                numbers = ", ".join(f"#{s.id}" for s in subscribed)
                result = f"announced by subscription {numbers}" + (
                    f"; card not posted: {problem}" if problem else ""
                )
                await self._audit.write(Action.SUBSCRIBE, actor, job.id, allowed=True, result=result)
                log.info("job %s announced in %s (%s)", job.id, channel, result)
                announced = True
        except DatabaseUnavailable as error:
            log.warning("could not follow discovered job %s yet (%s)", job.id, error)
            return "later"
        return "announced" if announced else "passed"
