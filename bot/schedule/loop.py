"""The schedule's background loop: queue each channel's digest when its time comes, fold the notes held
over quiet hours into their summary when the period ends, and deliver both.

A digest is queued under the key `digest:<local date>`, unique per channel in storage, in the same
transaction that moves the channel's window on: however often this runs, in however many processes or
restarts, a channel gets one digest per day. A digest whose time passed while the service was down is sent
when it comes back (only the latest one: a week offline is not seven digests).
"""

from __future__ import annotations

import asyncio
import logging

from bot.jobs.prices import PriceTable, load_price_table
from bot.ops.waiting import wait_any
from bot.schedule.digest import digest_payload
from bot.schedule.posts import ChannelPosts
from bot.services import Services

log = logging.getLogger(__name__)


class ScheduleLoop:
    def __init__(self, services: Services, *, tick: float = 20.0, posts: ChannelPosts | None = None) -> None:
        self._services = services
        self._tick = tick
        self._posts = posts if posts is not None else ChannelPosts(services)
        self._prices: PriceTable = load_price_table(services.settings.prices_file)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self.run_once()
            await wait_any(stopping, seconds=self._tick)

    async def run_once(self) -> int:
        """One pass: queue what is due, then deliver; returns how many posts were sent."""
        await self.queue_due_digests()
        await self._services.store.fold_held_notes(now=self._services.clock())
        return await self._posts.deliver_due()

    async def queue_due_digests(self) -> int:
        store = self._services.store
        now = self._services.clock()
        queued = 0
        for schedule in await store.digest_schedules():
            if schedule.digest is None:
                continue
            day, at = schedule.digest.latest(now)
            since = schedule.digest_since if schedule.digest_since is not None else schedule.updated_at
            if at <= since:  # its time today came before the digest was set up (or was told already)
                continue
            payload = await digest_payload(
                store,
                self._prices,
                schedule.channel,
                since=since,
                until=at,
                day=day.isoformat(),
                zone=schedule.digest.zone,
            )
            if await store.queue_digest(
                schedule.channel, f"digest:{day.isoformat()}", payload, told_until=at, now=now
            ):
                queued += 1
                log.info("queued the digest of %s for %s", schedule.channel, day.isoformat())
        return queued
