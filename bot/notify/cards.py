"""A job's card in a channel: posted once (with metadata the notifier can find it by), remembered in
storage, edited in place; and the explanation when Slack will not let the bot post there.

Posting a card is not idempotent, so it does not go through the shared client, whose retry handlers would
send it again after a 5xx or a lost connection — when Slack may have posted it already. Like the notifier
(`bot/notify/notifier.py`), cards are posted with a client that retries only 429s (nothing was posted), and after
a failure that may have posted the card, the channel is searched for it (by its metadata,
`bot.notify.thread_lookup.find_card`) before it is posted once more. Edits (`chat.update`) are idempotent and keep
the shared client's retries.
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
from bot.notify.slack_failures import UNREACHABLE_ERRORS, FailureKind, SlackFailure, classify
from bot.notify.thread_lookup import card_metadata, find_card
from bot.services import Services
from bot.views import SlackMessage
from bot.views.replies import card_not_posted

log = logging.getLogger(__name__)

CARD_POST_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError)
# A card is posted at most this many times; between two tries, the channel is searched for the first.
CARD_POST_ATTEMPTS = 2
# After a lost answer (timeout, dropped connection) Slack may still be finishing the post: wait this long
# before searching for it.
CARD_SETTLE_SECONDS = 2.0
# How far before the post the search starts, for clocks that disagree with Slack's.
CLOCK_SKEW_SECONDS = 60.0


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

    async def post_and_own(self, tracked: TrackedJob, actor: Actor, card: SlackMessage) -> str | None:
        """Post the card of a job just tracked without a watch (`track_job(..., owner_watch=False)`) in its
        owner channel, then make that channel follow it; Slack's error when the card was not posted.

        As in `post_and_follow`, the card goes out before the watch exists, so the notifier cannot post one
        of its own meanwhile. The watch is added even when posting fails or is cut short (shutdown): the
        job is then followed, and the notifier posts the missing card with its first note."""
        try:
            ts, problem = await self._send(tracked.job_id, actor.channel, card)
        finally:
            await asyncio.shield(
                self._services.store.add_watch(
                    tracked.job_id,
                    actor.channel,
                    user=actor.user,
                    now=self._services.clock(),
                    owner=tracked.owner_channel == actor.channel,
                )
            )
        await self._remember(tracked, actor.channel, ts, problem)
        return problem

    async def post_and_follow(self, tracked: TrackedJob, actor: Actor, card: SlackMessage) -> str | None:
        """Make the actor's channel follow a tracked job, with its card; Slack's error if not posted.

        The card goes out before the watch exists, so the notifier cannot post one of its own meanwhile."""
        ts, problem = await self._send(tracked.job_id, actor.channel, card)
        now = self._services.clock()
        await self._services.store.add_watch(tracked.job_id, actor.channel, user=actor.user, now=now)
        await self._remember(tracked, actor.channel, ts, problem)
        return problem

    async def update(
        self, tracked: TrackedJob | None, channel: str, card: SlackMessage, *, ts: str | None
    ) -> bool:
        """Edit the card message `ts` (default: this channel's card) in place; False if there is none or
        Slack refused."""
        store = self._services.store
        if ts is None and tracked is not None:
            watch = await store.get_watch(tracked.job_id, channel)
            ts = watch.card_ts if watch else None
        if ts is None:
            return False
        try:
            await self._services.slack.chat_update(channel=channel, ts=ts, **card.as_kwargs())
        except CARD_POST_FAILURES as error:
            log.warning("could not update the card %s in %s: %s", ts, channel, failure_text(error))
            return False
        if tracked is not None:
            now = self._services.clock()
            await store.set_card(tracked.job_id, channel, ts=ts, version=tracked.version, now=now)
        return True

    def not_posted(
        self, job_id: str, problem: str, card: SlackMessage, *, started: bool, channel: str | None = None
    ) -> SlackMessage:
        """Why the card is not in the channel and how to fix it, followed by the card itself; `channel`
        names the channel, for an answer that may be read elsewhere (a direct message)."""
        return card_not_posted(
            job_id,
            card,
            problem=problem,
            unreachable=problem in UNREACHABLE_ERRORS,
            started=started,
            command=self._services.settings.command,
            channel=channel,
        )

    async def _send(self, job_id: str, channel: str, card: SlackMessage) -> tuple[str | None, str | None]:
        """(ts, None) when posted (or found posted); (None, Slack's error) when not."""
        since = self._services.clock() - CLOCK_SKEW_SECONDS
        failure: SlackFailure | None = None
        error: BaseException | None = None
        for _ in range(CARD_POST_ATTEMPTS):
            try:
                answer = await self.poster.chat_postMessage(
                    channel=channel, metadata=card_metadata(job_id), **card.as_kwargs()
                )
            except CARD_POST_FAILURES as exc:
                error, failure = exc, classify(exc)
            else:
                return str(answer["ts"]), None
            if failure.kind is not FailureKind.TRANSIENT:
                break  # a definite refusal: trying again changes nothing
            log.info("posting the card of %s in %s failed (%s)", job_id, channel, failure.error)
            if failure.maybe_posted:
                found = await self._find(job_id, channel, since=since, answered=failure.answered)
                if found is not None:
                    log.info("the card of %s in %s was posted after all: %s", job_id, channel, found)
                    return found, None
        reason = (
            str(error.response.get("error") or "unknown")
            if isinstance(error, SlackApiError)
            else "unreachable"
        )
        log.warning("could not post the card of %s in %s: %s", job_id, channel, reason)
        return None, reason

    async def _find(self, job_id: str, channel: str, *, since: float, answered: bool) -> str | None:
        """The ts of this job's card in the channel, posted since `since`; None when not found or the
        history cannot be read (then a repeat is possible, but a card is never missing)."""
        if not answered:
            await asyncio.sleep(self._settle)
        try:
            # A read: the shared client's retries are harmless here.
            return await find_card(self._services.slack, channel, job_id, oldest=since)
        except CARD_POST_FAILURES as exc:
            log.warning("could not look for the card of %s in %s: %s", job_id, channel, failure_text(exc))
            return None

    async def _remember(self, tracked: TrackedJob, channel: str, ts: str | None, problem: str | None) -> None:
        store = self._services.store
        now = self._services.clock()
        if ts is not None:
            await store.set_card(tracked.job_id, channel, ts=ts, version=tracked.version, now=now)
        elif problem in UNREACHABLE_ERRORS:
            await store.mark_channel_unreachable(channel, reason=str(problem), now=now)
