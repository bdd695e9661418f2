"""The notifier's side of job cards: redraw the cards whose job changed, and post one that is missing.

Every tick, cards whose job changed are redrawn in place, at most once per card every `min_interval`
seconds (progress edits are coalesced), drawn from one budget for the whole workspace (Slack allows about
50 card edits a minute). A failed edit is retried with the card's own exponential backoff; an edit Slack
refuses for good is made once as plain text, and the card is then left alone until its job changes. A card that was deleted is posted again, and later replies go to its thread. A
card may exist that nobody remembered (a process that died after posting it, a post whose answer was
lost): it is looked for by its metadata before a missing card is posted.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.jobs.records import CardToRefresh, TrackedJob, Watch
from bot.notify.cards import CLOCK_SKEW_SECONDS, CardNotPosted, ChannelCards
from bot.notify.fallback import plain
from bot.notify.pacing import WORKSPACE, RateLimiter
from bot.notify.slack_failures import (
    DeliveryFailed,
    FailureKind,
    SlackFailure,
    classify,
    look_before_posting,
)
from bot.notify.unreachable import DEFAULT_CHANNEL_RETRY, ChannelRetry, mark_unreachable, tell_once
from bot.ops.backoff import JitteredBackoff
from bot.ops.logs import log_context
from bot.ops.metrics import DELIVERIES
from bot.services import Services
from bot.views.card import card_for
from bot.views.message import SlackMessage

log = logging.getLogger(__name__)


class CardUpkeep:
    def __init__(
        self,
        services: Services,
        *,
        requests: asyncio.Semaphore,
        pacer: RateLimiter,
        budget: RateLimiter,
        min_interval: float,
        backoff: JitteredBackoff,
        channel_retry: ChannelRetry = DEFAULT_CHANNEL_RETRY,
    ) -> None:
        self._services = services
        self._store = services.store
        self._cards = ChannelCards(services)
        self._requests = requests
        self._pacer = pacer
        self._budget = budget
        self._min_interval = min_interval
        self._backoff = backoff
        self._channel_retry = channel_retry
        # (job, channel) -> no card edit before this monotonic time (after a failed edit).
        self._retry_at: dict[tuple[str, str], float] = {}
        # (job, channel) -> failed edits in a row, for the card's own backoff.
        self._failures: dict[tuple[str, str], int] = {}
        # (job, channel) -> held while a card is (re)posted there.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    # ---- a card for a reply ---------------------------------------------------------------------------

    async def ensure(self, job: TrackedJob, watch: Watch) -> str:
        """The channel's card for the job, posting it first if it was never posted (or never remembered).

        Raises `DeliveryFailed` when Slack will not take it."""
        found = await look_before_posting(
            self._cards.find(job.job_id, watch.channel, since=watch.created_at - CLOCK_SKEW_SECONDS),
            self._requests,
            f"the history of {watch.channel}",
        )
        if found is not None:
            await self._cards.remember(job.job_id, watch.channel, found, version=-1)
            return found
        return await self.post(job, watch.channel, replacing=None)

    async def post(self, job: TrackedJob, channel: str, *, replacing: str | None) -> str:
        """Post the job's card in `channel` in place of `replacing` (None: there was none) and remember it.

        The reply path and the card path can both find a card gone at the same moment: one posts, the
        other takes the card it posted. Raises `DeliveryFailed` when Slack will not take it."""
        async with self._locks.setdefault((job.job_id, channel), asyncio.Lock()):
            watch = await self._store.get_watch(job.job_id, channel)
            if watch is not None and watch.card_ts is not None and watch.card_ts != replacing:
                return watch.card_ts
            await self._pacer.take(channel)
            card = card_for(job, self._services.clock(), prices=self._services.prices)
            try:
                ts = await self._post_card(job, channel, card)
            except DeliveryFailed as failed:
                if not failed.failure.permanent:
                    raise
                log.warning(
                    "Slack refused the card of %s in %s for good (%s); posting it as plain text",
                    job.job_id,
                    channel,
                    failed.failure.error,
                )
                ts = await self._post_card(job, channel, plain(card))
            await self._cards.remember(job.job_id, channel, ts, version=job.version)
            DELIVERIES.labels("card", "sent", "posted" if replacing is None else "reposted").inc()
            return ts

    async def _post_card(self, job: TrackedJob, channel: str, card: SlackMessage) -> str:
        try:
            async with self._requests:
                return await self._cards.post(job.job_id, channel, card)
        except CardNotPosted as refused:
            raise DeliveryFailed(refused.failure) from refused

    # ---- keeping cards live ---------------------------------------------------------------------------

    async def refresh(self, *, limit: int = 100) -> int:
        """Redraw the cards whose job changed; return how many were edited."""
        now = self._services.clock()
        due = await self._store.cards_to_refresh(now=now, min_interval=self._min_interval, limit=limit)
        moment = time.monotonic()
        due = [card for card in due if self._retry_at.get(_key(card), 0.0) <= moment]
        results = await asyncio.gather(*(self._refresh_one(card) for card in due))
        return sum(results)

    async def _refresh_one(self, card: CardToRefresh) -> bool:
        with log_context(job_id=card.job.job_id, channel=card.watch.channel):
            return await self._redraw(card)

    async def _redraw(self, card: CardToRefresh) -> bool:
        watch, job = card.watch, card.job
        if watch.card_ts is None:
            return False  # the first reply (or the handler) posts it
        await self._budget.take(WORKSPACE)
        # The wait for the budget can be long in a busy workspace: draw the job as it is now.
        job = await self._store.get_job(job.job_id) or job
        message = card_for(job, self._services.clock(), prices=self._services.prices)
        try:
            async with self._requests:
                await self._cards.edit(watch.channel, watch.card_ts, message)
        except Exception as exc:
            failure = classify(exc)
            if failure.permanent:
                return await self._edit_plain(job, watch.channel, watch.card_ts, message, failure)
            return await self._failed(card, failure)
        await self._edited(job, watch.channel, watch.card_ts)
        DELIVERIES.labels("card", "sent", "edited").inc()
        return True

    async def _edited(self, job: TrackedJob, channel: str, ts: str) -> None:
        """The card now shows the job at its version (or gave up trying to): not due until it changes."""
        await self._cards.remember(job.job_id, channel, ts, version=job.version)
        self._retry_at.pop((job.job_id, channel), None)
        self._failures.pop((job.job_id, channel), None)

    async def _edit_plain(
        self, job: TrackedJob, channel: str, ts: str, message: SlackMessage, failure: SlackFailure
    ) -> bool:
        """Slack refused this card for good: edit it once as plain text, then leave it until the job changes
        (retrying the same card would only be refused again, and eat the workspace's edit budget)."""
        log.warning(
            "Slack refused the card of %s in %s for good (%s); showing it as plain text",
            job.job_id,
            channel,
            failure.error,
        )
        await self._budget.take(WORKSPACE)
        try:
            async with self._requests:
                await self._cards.edit(channel, ts, plain(message))
        except Exception as exc:
            log.warning("the plain card of %s in %s was refused too (%s)", job.job_id, channel, exc)
            DELIVERIES.labels("card", "given_up", failure.kind.value).inc()
            edited = False
        else:
            DELIVERIES.labels("card", "sent", "plain").inc()
            edited = True
        await self._edited(job, channel, ts)
        return edited

    async def _failed(self, card: CardToRefresh, failure: SlackFailure) -> bool:
        watch, job = card.watch, card.job
        now = self._services.clock()
        if failure.kind is FailureKind.UNREACHABLE:
            await mark_unreachable(
                self._store, watch.channel, reason=failure.error, now=now, retry=self._channel_retry
            )
            await tell_once(self._services, self._services.slack, watch.channel, job)
            DELIVERIES.labels("card", "given_up", "unreachable").inc()
            log.warning(
                "cannot edit cards in %s (%s): channel marked unreachable", watch.channel, failure.error
            )
            return False
        if failure.kind is FailureKind.MESSAGE_GONE:
            # Someone deleted the card: post a fresh one; later replies go to its thread.
            try:
                await self.post(job, watch.channel, replacing=watch.card_ts)
            except DeliveryFailed as failed:
                if failed.failure.kind is FailureKind.MESSAGE_GONE:
                    return False
                return await self._failed(card, failed.failure)
            return True
        if failure.kind is FailureKind.RATE_LIMITED:
            self._budget.pause(WORKSPACE, failure.retry_after if failure.retry_after is not None else 1.0)
        # Each card backs off on its own: one that keeps failing waits longer and longer, and does not
        # take the edits of healthy cards from the shared budget.
        failures = self._failures.get(_key(card), 0)
        self._failures[_key(card)] = failures + 1
        wait = max(failure.retry_after or 0.0, self._backoff.wait(failures))
        self._retry_at[_key(card)] = time.monotonic() + wait
        DELIVERIES.labels("card", "retry", failure.kind.value).inc()
        log.info(
            "card of %s in %s not edited (%s); again in %.1fs", job.job_id, watch.channel, failure.error, wait
        )
        return False


def _key(card: CardToRefresh) -> tuple[str, str]:
    return (card.job.job_id, card.watch.channel)
