"""The notifier: delivers the outbox to Slack exactly once, and keeps job cards live.

Claimed outbox rows go to one queue per channel; each channel is drained by its own worker, in claim order
(a job's transitions in sequence), at about one message per second, many channels at once (at most
`concurrency` requests in flight). While a row of a job waits for its retry, later rows of that job in that
channel wait behind it (storage does not hand them out before it). Delivering one row is `ReplyDelivery`'s
work; redrawing cards is `CardUpkeep`'s. Every line logged about one delivery carries its job and channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.records import OutboxItem
from bot.notify.card_upkeep import CardUpkeep
from bot.notify.pacing import RateLimiter
from bot.notify.replies import ReplyDelivery, RetryRules
from bot.notify.slack_failures import FailureKind, SlackFailure
from bot.notify.unreachable import ChannelRetry
from bot.ops.backoff import JitteredBackoff
from bot.ops.logs import log_context
from bot.ops.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE
from bot.ops.waiting import wait_any
from bot.services import Services

log = logging.getLogger(__name__)

GAUGE_INTERVAL = 1.0
MIN_CLAIM_GAP = 0.01


class Notifier:
    """Replies wait out failures in the outbox, not in the client: the reply client (`slack`) has no
    retry handlers (slack_sdk's would sleep inside the call, unseen by the pacing and lost on a crash, or
    send again a post Slack had already taken); cards go through `ChannelCards` and its policies.
    `final_read_wait`: how long a success note may wait for the watcher's final read of its job;
    `unreachable_retry_*`: how often a channel the bot cannot post to is tried again."""

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
        unreachable_retry_base: float = ChannelRetry.base,
        unreachable_retry_cap: float = ChannelRetry.cap,
        slack: AsyncWebClient | None = None,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        self._services = services
        self._store = services.store
        self._pacer = RateLimiter(interval=per_channel_interval)
        requests = asyncio.Semaphore(concurrency)
        self._claim_limit = claim_limit
        self._lease = lease
        self._tick = tick
        self._card_tick = card_tick
        self._request_timeout = request_timeout
        self._final_read_wait = final_read_wait
        self._given_slack = slack
        self._slack: AsyncWebClient | None = slack
        self._session: aiohttp.ClientSession | None = None
        # 50-100 % of the exponential wait: the same formula, spread out at random.
        channel_retry = ChannelRetry(base=unreachable_retry_base, cap=unreachable_retry_cap)
        backoff = JitteredBackoff(
            base=retry_base, cap=retry_cap, share=0.5, random=lambda: 1.0 - random_fraction()
        )
        self._cards = CardUpkeep(
            services,
            requests=requests,
            pacer=self._pacer,
            budget=RateLimiter(interval=60.0 / card_edits_per_minute, burst=card_burst),
            min_interval=card_min_interval,
            backoff=backoff,
            channel_retry=channel_retry,
        )
        self._replies = ReplyDelivery(
            services,
            slack=lambda: self.slack,
            requests=requests,
            pacer=self._pacer,
            cards=self._cards,
            rules=RetryRules(
                backoff=backoff,
                give_up_after=give_up_after,
                request_timeout=request_timeout,
                channel_retry=channel_retry,
            ),
            channel_unreachable=self._drop_channel_queue,
        )

        self._queues: dict[str, deque[OutboxItem]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._queued_ids: set[int] = set()
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
            await wait_any(stopping, ready, seconds=self._tick)
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
                        await self._replies.deliver(item)
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
                            await self._replies.retry(
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
            await self._cards.refresh()
            self._pacer.forget_idle()
            await wait_any(stopping, seconds=self._card_tick)
