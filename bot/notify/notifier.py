"""The notifier: delivers the outbox to Slack exactly once, and keeps job cards live.

Replies. Claimed outbox rows go to one queue per channel; each channel is drained by its own worker, in
claim order (a job's transitions in sequence), at about one message per second (`ChannelPacer`), many
channels at once (at most `concurrency` requests in flight). A row is marked sent only after Slack says
`ok`. Every reply carries message metadata naming its job and transition; a row that may already have
reached Slack (claimed by a process that died, or whose answer was lost) is first looked up in the card's
thread, and marked sent with the ts found there instead of being posted again. A thread (or history) the
bot may not read (a public channel it was never invited to) is not checked: the reply is posted, since a
rare repeat beats silence, and only a refused post marks a channel unreachable.

Failures. A 429 pushes the channel's clock back by `Retry-After` and retries the row then; 5xx, timeouts
and other refusals back off exponentially with jitter (capped), and a row still undelivered after
`give_up_after` seconds is given up; a channel the bot cannot post to is marked unreachable and skipped.
While a row of a job waits for its retry, later rows of that job in that channel wait behind it (storage
does not hand them out before it: `claim_due_outbox`).

The dedicated Slack client has no retry handlers: slack_sdk's rate-limit handler would sleep inside the
call (invisible to the pacer, lost on a crash) and its connection-error handler can re-send a post Slack
had already accepted. Here every retry goes through the outbox, which checks the thread first.

Success notes show the job's final losses, which the watcher's final read of the job brings. When a
person's Refresh recorded the success first, that read comes a moment later: storage holds the note until
it is recorded (for at most `final_read_wait` seconds), and every note is drawn from the job as stored
just before it is posted, so it shows the freshest figures.

Every line logged about one delivery or card carries its job id and channel (`log_context`).

Cards. Every `card_tick` seconds, cards whose job changed are redrawn with `chat.update`, at most once per
card every `card_min_interval` seconds (progress edits are coalesced), drawn from a shared budget for the
whole workspace (`chat.update` is Tier 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from pydantic import ValidationError
from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.models import FineTuningJob
from bot.jobs.records import CardToRefresh, OutboxItem, TrackedJob, Watch
from bot.notify.pacing import ChannelPacer, RateBudget
from bot.notify.slack_failures import FailureKind, SlackFailure, cannot_look, classify
from bot.notify.thread_lookup import card_metadata, find_card, find_reply, notification_metadata
from bot.ops.logs import log_context
from bot.ops.metrics import DELIVERIES, OUTBOX_DEPTH, OUTBOX_OLDEST_AGE
from bot.services import Services
from bot.views.card import card_for, job_from_tracked
from bot.views.message import SlackMessage
from bot.views.notes import should_broadcast, status_note, stuck_note

log = logging.getLogger(__name__)

GAUGE_INTERVAL = 1.0
MIN_CLAIM_GAP = 0.01


class Notifier:
    def __init__(
        self,
        services: Services,
        *,
        per_channel_interval: float = 1.0,
        concurrency: int = 32,
        claim_limit: int = 500,
        lease: float = 60.0,
        tick: float = 0.5,
        card_tick: float = 1.0,
        card_min_interval: float = 5.0,
        card_edits_per_minute: float = 50.0,
        card_burst: int = 20,
        retry_base: float = 2.0,
        retry_cap: float = 300.0,
        give_up_after: float = 24 * 3600.0,
        request_timeout: float = 15.0,
        final_read_wait: float = 30.0,
        slack: AsyncWebClient | None = None,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self._services = services
        self._store = services.store
        self._pacer = ChannelPacer(interval=per_channel_interval)
        self._requests = asyncio.Semaphore(concurrency)
        self._claim_limit = claim_limit
        self._lease = lease
        self._tick = tick
        self._card_tick = card_tick
        self._card_min_interval = card_min_interval
        self._card_budget = RateBudget(per_minute=card_edits_per_minute, burst=card_burst)
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._give_up_after = give_up_after
        self._request_timeout = request_timeout
        self._final_read_wait = final_read_wait
        self._random = random_fraction
        self._given_slack = slack
        self._slack: AsyncWebClient | None = slack
        self._session: aiohttp.ClientSession | None = None

        self._queues: dict[str, deque[OutboxItem]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._queued_ids: set[int] = set()
        # Rows this process tried and Slack definitely refused: no thread look-up needed before the next try.
        self._known_unsent: set[int] = set()
        # (job, channel) -> no card edit before this monotonic time (after a failed edit).
        self._card_retry_at: dict[tuple[str, str], float] = {}
        # (job, channel) -> held while a card is (re)posted there.
        self._card_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.last_loop_at: float | None = None

    # ---- lifecycle ------------------------------------------------------------------------------------

    @property
    def slack(self) -> AsyncWebClient:
        if self._slack is None:
            base = self._services.slack
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._request_timeout))
            self._slack = AsyncWebClient(
                token=base.token,
                base_url=base.base_url,
                session=self._session,
                timeout=max(1, int(self._request_timeout)),
                retry_handlers=[],
                logger=logging.getLogger("tuneops.notifier.slack"),
            )
        return self._slack

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._slack = self._given_slack

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set, then return (in-flight deliveries are left to `drain`)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._reply_loop(stopping))
            cards = group.create_task(self._card_loop(stopping))
            await stopping.wait()
            # Card edits are redrawn from storage by the next process: no need to wait for them.
            cards.cancel()

    async def drain(self, grace: float) -> None:
        """Let deliveries already under way finish, for at most `grace` seconds; cancel the rest.

        A cancelled delivery stays claimed in storage: the next process re-checks its thread first.
        """
        self._keep_only_rows_under_way()
        workers = [task for task in self._workers.values() if not task.done()]
        if workers:
            _, pending = await asyncio.wait(workers, timeout=max(0.0, grace))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.aclose()

    # ---- replies --------------------------------------------------------------------------------------

    async def _reply_loop(self, stopping: asyncio.Event) -> None:
        ready = self._services.outbox_ready
        gauges_at = 0.0
        adopt = True
        while not stopping.is_set():
            ready.clear()
            await self._claim_and_dispatch(stopping, adopt=adopt)
            adopt = False
            if time.monotonic() >= gauges_at:
                await self._update_gauges()
                gauges_at = time.monotonic() + GAUGE_INTERVAL
            self.last_loop_at = self._services.clock()
            await _wait_any(stopping, ready, seconds=self._tick)
            # Let a burst of wake-ups (every finished row sets `ready`) make one claim, not hundreds.
            await asyncio.sleep(MIN_CLAIM_GAP)
        self._keep_only_rows_under_way()

    def _keep_only_rows_under_way(self) -> None:
        """Stop taking rows: those only queued here (not yet started) stay claimed in storage and come back
        after their lease; the one each worker is on is finished (or cancelled) by `drain`."""
        for queue in self._queues.values():
            while len(queue) > 1:
                self._queued_ids.discard(queue.pop().id)

    async def _claim_and_dispatch(self, stopping: asyncio.Event, *, adopt: bool = False) -> None:
        room = self._claim_limit - len(self._queued_ids)
        if room <= 0:
            return
        now = self._services.clock()
        if adopt:
            items = await self._adopt(now, room)
        else:
            items = await self._store.claim_due_outbox(
                now=now, limit=room, lease=self._lease, final_read_wait=self._final_read_wait
            )
        if stopping.is_set():
            return  # they stay claimed and come back after their lease (or at the next start)
        for item in items:
            if item.id in self._queued_ids:
                continue  # its lease ran out while it waited here: still ours
            self._queued_ids.add(item.id)
            self._queues.setdefault(item.channel, deque()).append(item)
        for channel, queue in self._queues.items():
            worker = self._workers.get(channel)
            if queue and (worker is None or worker.done()):
                self._workers[channel] = asyncio.create_task(
                    self._drain_channel(channel), name=f"deliver:{channel}"
                )

    async def _adopt(self, now: float, room: int) -> list[OutboxItem]:
        """The start-up claim: the rows a process that stopped had in flight, then what is due now.

        One notifier per database, so every row still claimed belongs to a process that stopped: take
        those over now rather than after their lease. Rows waiting out a retry (Slack's Retry-After, a
        backoff) are not in flight: they keep their wait, and come with a later claim.
        """
        taken = await self._store.claim_in_flight(now=now, limit=room, lease=self._lease)
        if taken:
            log.info("start-up: took over %d row(s) a previous process had in flight", len(taken))
        due = await self._store.claim_due_outbox(
            now=now, limit=room - len(taken), lease=self._lease, final_read_wait=self._final_read_wait
        )
        return sorted(taken + due, key=lambda item: item.id)

    async def _drain_channel(self, channel: str) -> None:
        queue = self._queues[channel]
        try:
            while queue:
                item = queue[0]
                try:
                    with log_context(job_id=item.job_id, channel=item.channel):
                        await self._deliver_unless_unreachable(item)
                    # The next row of this job (held back in storage until now) can be claimed.
                    self._services.outbox_ready.set()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A storage hiccup or a bug on one row must not stop the channel: retry it later
                    # (or, if even that fails, after its lease).
                    with log_context(job_id=item.job_id, channel=item.channel):
                        log.exception("delivering outbox row %s failed unexpectedly", item.id)
                        with contextlib.suppress(Exception):
                            await self._retry(
                                item, SlackFailure(FailureKind.TRANSIENT, "internal", maybe_posted=True)
                            )
                finally:
                    if queue and queue[0] is item:
                        queue.popleft()
                    self._queued_ids.discard(item.id)
        finally:
            if not queue:
                self._queues.pop(channel, None)
                self._workers.pop(channel, None)

    async def _deliver_unless_unreachable(self, item: OutboxItem) -> None:
        now = self._services.clock()
        if await self._store.channel_unreachable(item.channel) is not None:
            await self._store.mark_given_up(item.id, error="channel unreachable", now=now)
            DELIVERIES.labels("reply", "given_up", "unreachable").inc()
            return
        await self._deliver(item)

    async def _deliver(self, item: OutboxItem) -> None:
        job = await self._store.get_job(item.job_id)
        watch = await self._store.get_watch(item.job_id, item.channel)
        now = self._services.clock()
        if job is None or watch is None:
            await self._store.mark_given_up(item.id, error="the channel no longer follows this job", now=now)
            DELIVERIES.labels("reply", "given_up", "unwatched").inc()
            return
        # Slack may hold this reply already when an earlier attempt's outcome is unknown.
        check_thread = item.attempts > 1 and item.id not in self._known_unsent
        try:
            card_ts = watch.card_ts or await self._ensure_card(job, watch)
            try:
                await self._check_and_post(item, job, card_ts, check_thread=check_thread)
            except _Failed as failed:
                if failed.failure.kind is not FailureKind.MESSAGE_GONE:
                    raise
                # Someone deleted the card: a fresh card, and the reply goes into its (empty) thread.
                log.info("the card of %s in %s is gone; posting a new one", item.job_id, item.channel)
                card_ts = await self._post_card(job, item.channel, replacing=card_ts)
                await self._check_and_post(item, job, card_ts, check_thread=False)
        except _Failed as failed:
            await self._handle_failure(item, failed.failure)

    async def _check_and_post(
        self, item: OutboxItem, job: TrackedJob, card_ts: str, *, check_thread: bool
    ) -> None:
        if check_thread:
            try:
                async with self._requests:
                    found = await find_reply(self.slack, item.channel, card_ts, item.job_id, item.transition)
            except Exception as exc:
                failure = classify(exc)
                if not cannot_look(failure):
                    raise _Failed(failure) from exc
                # The thread cannot be read (a public channel the bot was not invited to, a missing history
                # scope): better a rare repeat than a notification that is never sent. Only a refused post
                # makes a channel unreachable.
                log.warning(
                    "cannot look in the thread of %s in %s (%s); posting without checking",
                    item.job_id,
                    item.channel,
                    failure.error,
                )
                found = None
            if found is not None:
                await self._store.mark_sent(item.id, ts=found, now=self._services.clock())
                self._known_unsent.discard(item.id)
                DELIVERIES.labels("reply", "sent", "found_in_thread").inc()
                log.info("row %s (%s %s) was already in the thread", item.id, item.job_id, item.transition)
                return
        await self._pacer.wait(item.channel)
        # Drawn from the job as stored now: figures recorded while the row waited (final losses) show.
        job = await self._store.get_job(item.job_id) or job
        message, broadcast = self._note(item, job)
        ts = await self._post_reply(item, card_ts, message, broadcast)
        await self._store.mark_sent(item.id, ts=ts, now=self._services.clock())
        self._known_unsent.discard(item.id)
        DELIVERIES.labels("reply", "sent", "broadcast" if broadcast else "thread").inc()

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
        except _Failed as failed:
            if failed.failure.kind is not FailureKind.BLOCKS_REJECTED:
                raise
            log.warning(
                "Slack refused the blocks of row %s (%s); sending text only", item.id, failed.failure.error
            )
            kwargs.pop("blocks", None)
            return await self._post(kwargs)

    async def _post(self, kwargs: dict[str, Any]) -> str:
        try:
            async with self._requests:
                response = await self.slack.chat_postMessage(**kwargs)
        except Exception as exc:
            raise _Failed(classify(exc)) from exc
        return str(response.get("ts"))

    def _note(self, item: OutboxItem, tracked: TrackedJob) -> tuple[SlackMessage, bool]:
        payload = item.payload
        job = _job_in(payload) or job_from_tracked(tracked)
        if item.kind == "stuck":
            last_event_at = payload.get("last_event_at")
            since = last_event_at if isinstance(last_event_at, int | float) else tracked.created_at
            return stuck_note(job, quiet_for=max(0.0, item.created_at - float(since))), False
        current = str(payload.get("current") or item.transition.partition(":")[2] or tracked.status)
        previous = str(payload.get("previous") or "")
        actor = payload.get("actor")
        message = status_note(
            job,
            previous=previous,
            current=current,
            creator=tracked.creator,
            actor=str(actor) if actor else None,
            progress=tracked.progress,
        )
        return message, should_broadcast(current)

    async def _ensure_card(self, job: TrackedJob, watch: Watch) -> str:
        """The channel's card for the job, posting it first if it was never posted.

        A card may exist that nobody remembered (a process that died after posting it, or a post whose
        answer was lost): look for it by its metadata first, so it is never posted twice. Rare: the bot
        posts cards when jobs are created or watched."""
        try:
            async with self._requests:
                found = await find_card(self.slack, watch.channel, job.job_id, oldest=watch.created_at - 60)
        except Exception as exc:
            failure = classify(exc)
            if not cannot_look(failure):
                raise _Failed(failure) from exc
            # As for a thread: a refused read is not a refused post (the post below says whether the
            # channel takes messages).
            log.warning(
                "cannot read the history of %s (%s); posting the card without checking",
                watch.channel,
                failure.error,
            )
            found = None
        if found is not None:
            await self._store.set_card(
                job.job_id, watch.channel, ts=found, version=-1, now=self._services.clock()
            )
            return found
        return await self._post_card(job, watch.channel, replacing=None)

    async def _post_card(self, job: TrackedJob, channel: str, *, replacing: str | None) -> str:
        """Post the job's card in `channel` in place of `replacing` (None: there was none) and remember it;
        its metadata lets a restart find it. The reply path and the card path can both find a card gone at
        the same moment: one posts, the other takes the card it posted."""
        async with self._card_locks.setdefault((job.job_id, channel), asyncio.Lock()):
            watch = await self._store.get_watch(job.job_id, channel)
            if watch is not None and watch.card_ts is not None and watch.card_ts != replacing:
                return watch.card_ts
            await self._pacer.wait(channel)
            card = card_for(job, self._services.clock())
            ts = await self._post(
                {"channel": channel, "metadata": card_metadata(job.job_id), **card.as_kwargs()}
            )
            await self._store.set_card(
                job.job_id, channel, ts=ts, version=job.version, now=self._services.clock()
            )
            DELIVERIES.labels("card", "sent", "posted" if replacing is None else "reposted").inc()
            return ts

    async def _handle_failure(self, item: OutboxItem, failure: SlackFailure) -> None:
        now = self._services.clock()
        if failure.kind is FailureKind.UNREACHABLE:
            dropped = await self._store.mark_channel_unreachable(item.channel, reason=failure.error, now=now)
            await self._store.mark_given_up(item.id, error=failure.error, now=now)
            DELIVERIES.labels("reply", "given_up", "unreachable").inc()
            log.warning(
                "cannot post in %s (%s): channel marked unreachable, %d notification(s) dropped",
                item.channel,
                failure.error,
                dropped,
            )
            self._drop_channel_queue(item.channel)
            return
        await self._retry(item, failure)

    async def _retry(self, item: OutboxItem, failure: SlackFailure) -> None:
        now = self._services.clock()
        if now - item.created_at >= self._give_up_after:
            await self._store.mark_given_up(item.id, error=failure.error, now=now)
            self._known_unsent.discard(item.id)
            DELIVERIES.labels("reply", "given_up", failure.kind.value).inc()
            log.error("giving up row %s (%s %s): %s", item.id, item.job_id, item.transition, failure.error)
            return
        if failure.kind is FailureKind.RATE_LIMITED:
            wait = failure.retry_after if failure.retry_after is not None else 1.0
            self._pacer.defer(item.channel, wait)
        else:
            wait = self._backoff(item.attempts)
        if not failure.answered:
            # Slack may still be finishing the lost request: let it land before the thread is checked.
            wait = max(wait, self._request_timeout)
        if failure.maybe_posted:
            self._known_unsent.discard(item.id)
        else:
            self._known_unsent.add(item.id)
        await self._store.mark_retry(item.id, error=failure.error, next_attempt_at=now + wait)
        DELIVERIES.labels("reply", "retry", failure.kind.value).inc()
        log.info(
            "row %s (%s) not delivered (%s); retrying in %.1fs", item.id, item.channel, failure.error, wait
        )

    def _backoff(self, attempts: int) -> float:
        ceiling = min(self._retry_cap, self._retry_base * (2 ** max(0, attempts - 1)))
        return float(ceiling * (0.5 + 0.5 * self._random()))

    def _drop_channel_queue(self, channel: str) -> None:
        queue = self._queues.get(channel)
        if queue is None:
            return
        while len(queue) > 1:
            self._queued_ids.discard(queue.pop().id)

    async def _update_gauges(self) -> None:
        stats = await self._store.outbox_stats(now=self._services.clock())
        OUTBOX_DEPTH.set(stats.pending)
        OUTBOX_OLDEST_AGE.set(stats.oldest_pending_age or 0.0)

    # ---- cards ----------------------------------------------------------------------------------------

    async def _card_loop(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self.refresh_cards()
            self._pacer.forget_idle()
            await _wait_any(stopping, seconds=self._card_tick)

    async def refresh_cards(self, *, limit: int = 100) -> int:
        """Redraw the cards whose job changed; return how many were edited."""
        now = self._services.clock()
        due = await self._store.cards_to_refresh(now=now, min_interval=self._card_min_interval, limit=limit)
        moment = time.monotonic()
        due = [card for card in due if self._card_retry_at.get(_card_key(card), 0.0) <= moment]
        results = await asyncio.gather(*(self._refresh_card(card) for card in due))
        return sum(results)

    async def _refresh_card(self, card: CardToRefresh) -> bool:
        with log_context(job_id=card.job.job_id, channel=card.watch.channel):
            return await self._redraw_card(card)

    async def _redraw_card(self, card: CardToRefresh) -> bool:
        watch, job = card.watch, card.job
        if watch.card_ts is None:
            return False  # the first reply (or the handler) posts it
        await self._card_budget.take()
        # The wait for the budget can be long in a busy workspace: draw the job as it is now.
        job = await self._store.get_job(job.job_id) or job
        message = card_for(job, self._services.clock())
        try:
            async with self._requests:
                await self.slack.chat_update(channel=watch.channel, ts=watch.card_ts, **message.as_kwargs())
        except Exception as exc:
            return await self._card_failed(card, classify(exc))
        await self._store.set_card(
            job.job_id, watch.channel, ts=watch.card_ts, version=job.version, now=self._services.clock()
        )
        self._card_retry_at.pop(_card_key(card), None)
        DELIVERIES.labels("card", "sent", "edited").inc()
        return True

    async def _card_failed(self, card: CardToRefresh, failure: SlackFailure) -> bool:
        watch, job = card.watch, card.job
        now = self._services.clock()
        if failure.kind is FailureKind.UNREACHABLE:
            await self._store.mark_channel_unreachable(watch.channel, reason=failure.error, now=now)
            DELIVERIES.labels("card", "given_up", "unreachable").inc()
            log.warning(
                "cannot edit cards in %s (%s): channel marked unreachable", watch.channel, failure.error
            )
            return False
        if failure.kind is FailureKind.MESSAGE_GONE:
            # Someone deleted the card: post a fresh one; later replies go to its thread.
            try:
                await self._post_card(job, watch.channel, replacing=watch.card_ts)
            except _Failed as failed:
                if failed.failure.kind is FailureKind.MESSAGE_GONE:
                    return False
                return await self._card_failed(card, failed.failure)
            return True
        if failure.kind is FailureKind.RATE_LIMITED:
            self._card_budget.pause(failure.retry_after if failure.retry_after is not None else 1.0)
        wait = failure.retry_after if failure.retry_after is not None else self._backoff(1)
        self._card_retry_at[_card_key(card)] = time.monotonic() + wait
        DELIVERIES.labels("card", "retry", failure.kind.value).inc()
        log.info(
            "card of %s in %s not edited (%s); again in %.1fs", job.job_id, watch.channel, failure.error, wait
        )
        return False


class _Failed(Exception):
    def __init__(self, failure: SlackFailure) -> None:
        super().__init__(failure.error)
        self.failure = failure


def _card_key(card: CardToRefresh) -> tuple[str, str]:
    return (card.job.job_id, card.watch.channel)


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


async def _wait_any(*events: asyncio.Event, seconds: float) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
