"""A job's card in a channel: posted once, found again by its metadata, edited in place.

The job service (create, watch, the buttons) and the notifier (a card missing or deleted, the cards it
keeps live) both go through here, with one policy for each kind of call. A post is not idempotent: its
client retries only 429s (nothing was posted), and after a failure that may have posted the card, the
channel is searched for it before it is posted once more. Edits and reads are idempotent: they go through
the shared client, whose retries are harmless. A channel follows a job only once its card went out
(`post_then_watch`), so the notifier never posts a second card for a job it sees followed without one.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actor import Actor
from bot.jobs.audit import failure_text
from bot.jobs.records import TrackedJob
from bot.notify.fallback import plain
from bot.notify.slack_failures import UNREACHABLE_ERRORS, FailureKind, SlackFailure, classify
from bot.notify.thread_lookup import card_metadata, find_card
from bot.notify.unreachable import mark_unreachable
from bot.services import Services
from bot.views import SlackMessage

log = logging.getLogger(__name__)

CARD_POST_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError)
# A card is posted at most this many times; between two tries, the channel is searched for the first.
CARD_POST_ATTEMPTS = 2
# After a lost answer (timeout, dropped connection) Slack may still be finishing the post: wait this long
# before searching for it.
CARD_SETTLE_SECONDS = 2.0
# How far before the post the search starts, for clocks that disagree with Slack's.
CLOCK_SKEW_SECONDS = 60.0


class CardNotPosted(Exception):
    """Slack did not take the card: `failure` says why, `reason` is the error code shown to people."""

    def __init__(self, failure: SlackFailure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


class ChannelCards:
    def __init__(self, services: Services, *, settle: float = CARD_SETTLE_SECONDS) -> None:
        self._services = services
        self._settle = settle
        self._poster: AsyncWebClient | None = None

    @property
    def poster(self) -> AsyncWebClient:
        """The client that posts cards: the shared client's token, base URL and HTTP session, but only the
        rate-limit retry (a 429 posted nothing)."""
        if self._poster is None:
            shared = self._services.slack
            self._poster = AsyncWebClient(
                token=shared.token,
                base_url=shared.base_url,
                session=shared.session,
                timeout=shared.timeout,
                retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
                logger=logging.getLogger("tuneops.cards.slack"),
            )
        return self._poster

    # ---- following a job ------------------------------------------------------------------------------

    async def post_then_watch(self, tracked: TrackedJob, actor: Actor, card: SlackMessage) -> str | None:
        """Post the job's card in the actor's channel, then make that channel follow the job; Slack's
        error when the card was not posted.

        The watch is added only after the post, so the notifier cannot post a card of its own meanwhile.
        It is added even when the post fails or is cut short (shutdown): the job is then followed, and
        the notifier posts the missing card with its first note."""
        ts: str | None = None
        problem: str | None = None
        try:
            ts = await self._post_or_plain(tracked.job_id, actor.channel, card)
        except CardNotPosted as refused:
            problem = refused.reason
        finally:
            await asyncio.shield(self.watch_without_card(tracked, actor))
        now = self._services.clock()
        if ts is not None:
            await self.remember(tracked.job_id, actor.channel, ts, version=tracked.version)
        elif problem in UNREACHABLE_ERRORS:
            await mark_unreachable(self._services.store, actor.channel, reason=str(problem), now=now)
        return problem

    async def _post_or_plain(self, job_id: str, channel: str, card: SlackMessage) -> str:
        """Post the card; one Slack refuses for good (not for the channel's sake) goes out as plain text."""
        try:
            return await self.post(job_id, channel, card)
        except CardNotPosted as refused:
            if not refused.failure.permanent or refused.reason in UNREACHABLE_ERRORS:
                raise
            log.warning(
                "Slack refused the card of %s for good (%s); posting it as text", job_id, refused.reason
            )
            return await self.post(job_id, channel, plain(card))

    async def watch_without_card(self, tracked: TrackedJob, actor: Actor) -> None:
        """Make the actor's channel follow the job. Called once its card was posted (`post_then_watch`),
        or when the caller will not post it (a create cut short): the notifier then posts it."""
        await self._services.store.add_watch(
            tracked.job_id,
            actor.channel,
            user=actor.user,
            now=self._services.clock(),
            owner=tracked.owner_channel == actor.channel,
        )

    # ---- posting, finding, editing --------------------------------------------------------------------

    async def post(self, job_id: str, channel: str, card: SlackMessage) -> str:
        """Post the job's card in the channel (or find it posted after a lost answer); its ts.

        Raises `CardNotPosted` when Slack refused it, or failed twice over."""
        since = self._services.clock() - CLOCK_SKEW_SECONDS
        for attempt in range(1, CARD_POST_ATTEMPTS + 1):
            try:
                return await self._post_once(job_id, channel, card)
            except CardNotPosted as refused:
                failure = refused.failure
                # Only a failure that leaves the post in doubt is worth a second try; a definite refusal
                # would be refused again.
                retry = failure.kind is FailureKind.TRANSIENT and attempt < CARD_POST_ATTEMPTS
                if failure.kind is FailureKind.TRANSIENT:
                    log.info("posting the card of %s in %s failed (%s)", job_id, channel, failure.error)
                    if failure.maybe_posted:
                        found = await self._find_after_failure(
                            job_id, channel, since=since, answered=failure.answered
                        )
                        if found is not None:
                            log.info("the card of %s in %s was posted after all: %s", job_id, channel, found)
                            return found
                if not retry:
                    log.warning("could not post the card of %s in %s: %s", job_id, channel, refused.reason)
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _post_once(self, job_id: str, channel: str, card: SlackMessage) -> str:
        try:
            answer = await self.poster.chat_postMessage(
                channel=channel, metadata=card_metadata(job_id), **card.as_kwargs()
            )
        except CARD_POST_FAILURES as exc:
            raise CardNotPosted(classify(exc), _reason(exc)) from exc
        return str(answer["ts"])

    async def find(self, job_id: str, channel: str, *, since: float) -> str | None:
        """The ts of this job's card in the channel, posted since `since`, or None. Slack errors propagate."""
        return await find_card(self._services.slack, channel, job_id, oldest=since)

    async def edit(self, channel: str, ts: str, card: SlackMessage) -> None:
        """Redraw the card message `ts` in place. Slack errors propagate."""
        await self._services.slack.chat_update(channel=channel, ts=ts, **card.as_kwargs())

    async def remember(self, job_id: str, channel: str, ts: str, *, version: int) -> None:
        """Store `ts` as the channel's card of the job, drawn from the job at `version`."""
        now = self._services.clock()
        await self._services.store.set_card(job_id, channel, ts=ts, version=version, now=now)

    async def update(
        self, tracked: TrackedJob | None, channel: str, card: SlackMessage, *, ts: str | None
    ) -> bool:
        """Edit the card message `ts` (default: this channel's card) in place; False if there is none or
        Slack refused."""
        if ts is None and tracked is not None:
            watch = await self._services.store.get_watch(tracked.job_id, channel)
            ts = watch.card_ts if watch else None
        if ts is None:
            return False
        try:
            await self.edit(channel, ts, card)
        except CARD_POST_FAILURES as error:
            log.warning("could not update the card %s in %s: %s", ts, channel, failure_text(error))
            return False
        if tracked is not None:
            await self.remember(tracked.job_id, channel, ts, version=tracked.version)
        return True

    async def _find_after_failure(
        self, job_id: str, channel: str, *, since: float, answered: bool
    ) -> str | None:
        """`find`, after letting a lost post land; None when the history cannot be read either (then a
        repeat is possible, but a card is never missing)."""
        if not answered:
            await asyncio.sleep(self._settle)
        try:
            return await self.find(job_id, channel, since=since)
        except CARD_POST_FAILURES as exc:
            log.warning("could not look for the card of %s in %s: %s", job_id, channel, failure_text(exc))
            return None


def _reason(error: BaseException) -> str:
    """Slack's error code for a refused post; "unreachable" when Slack could not be reached at all."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "unknown")
    return "unreachable"
