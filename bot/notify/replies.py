"""Delivering one outbox row: a reply in its job card's thread, exactly once.

A row is marked sent only after Slack says `ok`. Every reply carries metadata naming its job and change,
so a row that may already be in Slack (a lost answer, a process that died) is first looked for in the
card's thread. A thread the bot may not read is not checked: a rare repeat beats silence. A 429 pauses
the channel for `Retry-After`; other failures back off exponentially with jitter; a row too old is given
up. A row for a channel the bot cannot post to waits for the channel's next try (`bot.notify.unreachable`). A reply Slack refuses for good is sent once more as short
plain text, and given up if that is refused too: it never holds the job's later notes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.models import FineTuningJob
from bot.jobs.channel_settings import Telling, how_to_tell
from bot.jobs.records import OutboxItem, TrackedJob
from bot.notify.card_upkeep import CardUpkeep
from bot.notify.direct import tell_creator
from bot.notify.fallback import plain_post
from bot.notify.pacing import RateLimiter
from bot.notify.slack_failures import (
    DeliveryFailed,
    FailureKind,
    SlackFailure,
    classify,
    look_before_posting,
)
from bot.notify.thread_lookup import find_reply, notification_metadata
from bot.notify.unreachable import (
    DEFAULT_CHANNEL_RETRY,
    ChannelRetry,
    mark_unreachable,
    reachable_again,
    tell_once,
)
from bot.ops.backoff import JitteredBackoff
from bot.ops.metrics import DELIVERIES
from bot.schedule.quiet import hold_if_quiet
from bot.services import Services
from bot.views.card import job_from_tracked
from bot.views.message import SlackMessage
from bot.views.notes import progress_note, status_note, stuck_note, unreadable_note

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryRules:
    backoff: JitteredBackoff
    give_up_after: float
    # A lost answer waits at least this long before a retry, so the request can land before the check.
    request_timeout: float
    channel_retry: ChannelRetry = DEFAULT_CHANNEL_RETRY


class ReplyDelivery:
    def __init__(
        self,
        services: Services,
        *,
        slack: Callable[[], AsyncWebClient],
        requests: asyncio.Semaphore,
        pacer: RateLimiter,
        cards: CardUpkeep,
        rules: RetryRules,
        channel_unreachable: Callable[[str], None],
    ) -> None:
        self._services = services
        self._store = services.store
        self._slack = slack
        self._requests = requests
        self._pacer = pacer
        self._cards = cards
        self._rules = rules
        self._channel_unreachable = channel_unreachable
        # Rows this process tried and Slack definitely refused: no thread look-up needed before the next try.
        self._known_unsent: set[int] = set()

    async def deliver(self, item: OutboxItem) -> None:
        """Deliver the row, or record why not (a retry, or giving up); Slack failures do not escape."""
        now = self._services.clock()
        mark = await self._store.unreachable_channel(item.channel)
        if mark is not None and mark.retry_at > now:
            # Claimed before its channel was marked: it waits for the channel's next try with the others.
            await self._store.mark_retry(item.id, error=mark.reason, next_attempt_at=mark.retry_at)
            DELIVERIES.labels("reply", "retry", "unreachable").inc()
            return
        if await hold_if_quiet(self._services, item):  # folded into the summary when quiet hours end
            DELIVERIES.labels("reply", "held", "quiet_hours").inc()
            return
        job = await self._store.get_job(item.job_id)
        watch = await self._store.get_watch(item.job_id, item.channel)
        now = self._services.clock()
        if job is None or watch is None:
            await self._store.mark_given_up(item.id, error="the channel no longer follows this job", now=now)
            DELIVERIES.labels("reply", "given_up", "unwatched").inc()
            return
        telling = await self._telling(item)
        if not telling.post:
            # The channel's subscriptions (`only=`) or settings leave this change out: nothing to post.
            await self._store.mark_given_up(item.id, error="not told in this channel (its settings)", now=now)
            DELIVERIES.labels("reply", "given_up", "not_told").inc()
            return
        # Slack may hold this reply already when an earlier attempt's outcome is unknown.
        check_thread = item.attempts > 1 and item.id not in self._known_unsent
        try:
            card_ts = watch.card_ts or await self._cards.ensure(job, watch)
            try:
                await self._check_and_post(item, job, card_ts, telling, check_thread=check_thread)
            except DeliveryFailed as failed:
                if failed.failure.kind is not FailureKind.MESSAGE_GONE:
                    raise
                # Someone deleted the card: a fresh card, and the reply goes into its (empty) thread.
                log.info("the card of %s in %s is gone; posting a new one", item.job_id, item.channel)
                card_ts = await self._cards.post(job, item.channel, replacing=card_ts)
                await self._check_and_post(item, job, card_ts, telling, check_thread=False)
        except DeliveryFailed as failed:
            await self._handle_failure(item, failed.failure)
        else:
            if mark is not None:  # this note was the channel's try, and it went through
                await reachable_again(self._services, item.channel)

    async def retry(self, item: OutboxItem, failure: SlackFailure) -> None:
        """Put the row back to be tried again after its wait, or give it up when it is too old."""
        now = self._services.clock()
        if now - item.created_at >= self._rules.give_up_after:
            await self._store.mark_given_up(item.id, error=failure.error, now=now)
            self._known_unsent.discard(item.id)
            DELIVERIES.labels("reply", "given_up", failure.kind.value).inc()
            log.error("giving up row %s (%s %s): %s", item.id, item.job_id, item.transition, failure.error)
            return
        if failure.kind is FailureKind.RATE_LIMITED:
            wait = failure.retry_after if failure.retry_after is not None else 1.0
            self._pacer.pause(item.channel, wait)
        else:
            wait = self._rules.backoff.wait(item.attempts - 1)
        if not failure.answered:
            # Slack may still be finishing the lost request: let it land before the thread is checked.
            wait = max(wait, self._rules.request_timeout)
        if failure.maybe_posted:
            self._known_unsent.discard(item.id)
        else:
            self._known_unsent.add(item.id)
        await self._store.mark_retry(item.id, error=failure.error, next_attempt_at=now + wait)
        DELIVERIES.labels("reply", "retry", failure.kind.value).inc()
        log.info(
            "row %s (%s) not delivered (%s); retrying in %.1fs", item.id, item.channel, failure.error, wait
        )

    async def _telling(self, item: OutboxItem) -> Telling:
        """How this channel takes this note: its subscriptions' `only=` and its settings."""
        told = await self._store.watch_filter(item.job_id, item.channel)
        settings = await self._store.channel_settings(item.channel)
        return how_to_tell(item.kind, _current(item), told=told, settings=settings)

    async def _check_and_post(
        self, item: OutboxItem, job: TrackedJob, card_ts: str, telling: Telling, *, check_thread: bool
    ) -> None:
        if check_thread and await self._found_in_thread(item, card_ts):
            return
        await self._pacer.take(item.channel)
        # Drawn from the job as stored now: figures recorded while the row waited (final losses) show.
        job = await self._store.get_job(item.job_id) or job
        message = _note(item, job, mention_creator=telling.mention)
        ts = await self._post_reply(item, card_ts, message, telling.broadcast)
        await self._store.mark_sent(item.id, ts=ts, now=self._services.clock())
        self._known_unsent.discard(item.id)
        DELIVERIES.labels("reply", "sent", "broadcast" if telling.broadcast else "thread").inc()
        if telling.dm_creator and job.creator:
            await tell_creator(self._services, self._slack(), item, job, message)

    async def _found_in_thread(self, item: OutboxItem, card_ts: str) -> bool:
        """True (and the row marked sent) when the card's thread already holds this reply."""
        found = await look_before_posting(
            find_reply(self._slack(), item.channel, card_ts, item.job_id, item.transition),
            self._requests,
            f"the thread of {item.job_id} in {item.channel}",
        )
        if found is None:
            return False
        await self._store.mark_sent(item.id, ts=found, now=self._services.clock())
        self._known_unsent.discard(item.id)
        DELIVERIES.labels("reply", "sent", "found_in_thread").inc()
        log.info("row %s (%s %s) was already in the thread", item.id, item.job_id, item.transition)
        return True

    async def _post_reply(
        self, item: OutboxItem, card_ts: str, message: SlackMessage, broadcast: bool
    ) -> str:
        kwargs: dict[str, Any] = {
            "channel": item.channel,
            "thread_ts": card_ts,
            "reply_broadcast": broadcast,
            "metadata": notification_metadata(item.job_id, item.transition),
            **message.as_kwargs(),
        }
        try:
            return await self._post(kwargs)
        except DeliveryFailed as failed:
            if not failed.failure.permanent:
                raise
            log.warning(
                "Slack refused row %s for good (%s); sending it once as short plain text",
                item.id,
                failed.failure.error,
            )
            return await self._post(plain_post(kwargs, failed.failure))

    async def _post(self, kwargs: dict[str, Any]) -> str:
        try:
            async with self._requests:
                response = await self._slack().chat_postMessage(**kwargs)
        except Exception as exc:
            raise DeliveryFailed(classify(exc)) from exc
        return str(response.get("ts"))

    async def _handle_failure(self, item: OutboxItem, failure: SlackFailure) -> None:
        now = self._services.clock()
        if failure.permanent:
            # Even the plain fallback was refused: retrying cannot help, and later notes must not wait.
            await self._store.mark_given_up(item.id, error=failure.error, now=now)
            self._known_unsent.discard(item.id)
            DELIVERIES.labels("reply", "given_up", failure.kind.value).inc()
            log.error("giving up row %s (%s %s): %s", item.id, item.job_id, item.transition, failure.error)
            return
        if failure.kind is not FailureKind.UNREACHABLE:
            await self.retry(item, failure)
            return
        held = await mark_unreachable(
            self._store, item.channel, reason=failure.error, now=now, retry=self._rules.channel_retry
        )
        if now - item.created_at >= self._rules.give_up_after:
            await self._store.mark_given_up(item.id, error=failure.error, now=now)
            DELIVERIES.labels("reply", "given_up", "unreachable").inc()
        else:
            DELIVERIES.labels("reply", "retry", "unreachable").inc()
        log.warning(
            "cannot post in %s (%s): channel marked unreachable, %d notification(s) wait for its next try",
            item.channel,
            failure.error,
            held,
        )
        self._channel_unreachable(item.channel)
        await tell_once(self._services, self._slack(), item.channel, await self._store.get_job(item.job_id))


def _current(item: OutboxItem) -> str:
    """The status a status note tells ("" for other notes)."""
    return str(item.payload.get("current") or item.transition.partition(":")[2])


def _note(item: OutboxItem, tracked: TrackedJob, *, mention_creator: bool = True) -> SlackMessage:
    """The reply for the row."""
    payload = item.payload
    job = _job_in(payload) or job_from_tracked(tracked)
    if item.kind == "unreadable":
        return unreadable_note(item.job_id, reason=str(payload.get("reason") or "no answer"))
    if item.kind == "stuck":
        last_event_at = payload.get("last_event_at")
        since = last_event_at if isinstance(last_event_at, int | float) else tracked.created_at
        return stuck_note(job, quiet_for=max(0.0, item.created_at - float(since)))
    if item.kind == "progress":
        return progress_note(job, payload)
    current = _current(item) or tracked.status
    previous = str(payload.get("previous") or "")
    actor = payload.get("actor")
    return status_note(
        job,
        previous=previous,
        current=current,
        creator=tracked.creator,
        actor=str(actor) if actor else None,
        progress=tracked.progress,
        mention_creator=mention_creator,
    )


def _job_in(payload: dict[str, object]) -> FineTuningJob | None:
    """The job as it was when the change was recorded (the stored snapshot has moved on since)."""
    snapshot = payload.get("job")
    if not isinstance(snapshot, dict):
        details = payload.get("details")
        snapshot = details.get("job") if isinstance(details, dict) else None
    if not isinstance(snapshot, dict):
        return None
    try:
        return FineTuningJob.model_validate(snapshot)
    except ValidationError:
        return None
