"""Publishing a person's Home tab (`views.publish`), and keeping it current as their jobs change.

Publishing asks Slack which channels the person is in (`users.conversations`, which the bot's
`channels:read` / `groups:read` allow). `HomeUpkeep` republishes for the people who opened the tab when a
job they started changes, at most once per `min_interval` per person (Slack rate-limits `views.publish`
per app, and a running job changes every poll): changes in between are folded into the next publish.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from bot.home.content import home_content
from bot.jobs.permissions import Policy
from bot.jobs.prices import PriceTable, load_price_table
from bot.ops.waiting import wait_any
from bot.services import Services
from bot.views.home import home_view

log = logging.getLogger(__name__)

MAX_CHANNEL_PAGES = 5


class HomePublisher:
    def __init__(self, services: Services, *, prices: PriceTable | None = None) -> None:
        self._services = services
        settings = services.settings
        self._policy = Policy(settings.admin_ids, command=settings.command)
        self._prices = prices if prices is not None else load_price_table(settings.prices_file)

    async def opened(self, user: str) -> None:
        """The person opened the Home tab: remember them, and publish it now."""
        await self._services.store.remember_home(user, now=self._services.clock())
        await self.publish(user)

    async def publish(self, user: str) -> bool:
        """Publish the person's Home tab as it is now; False when Slack refused it (logged)."""
        channels = await self._channels_of(user)
        content = await home_content(self._services.store, self._policy, self._prices, user, channels)
        view = home_view(content, now=self._services.clock(), command=self._services.settings.command)
        try:
            await self._services.slack.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            log.warning("could not publish the Home tab of %s: %s", user, error.response.get("error"))
            return False
        await self._services.store.home_published(user, now=self._services.clock())
        return True

    async def _channels_of(self, user: str) -> list[str]:
        """The channels the person is in that the bot can see; none when Slack will not say."""
        channels: list[str] = []
        cursor: str | None = None
        try:
            for _ in range(MAX_CHANNEL_PAGES):
                answer = await self._services.slack.users_conversations(
                    user=user,
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
                channels += [str(c["id"]) for c in answer.get("channels") or [] if isinstance(c, dict)]
                cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as error:
            log.warning("could not list the channels of %s: %s", user, error.response.get("error"))
        return channels


class HomeUpkeep:
    """Republishes the Home tab of people whose jobs changed, debounced per person."""

    def __init__(
        self,
        services: Services,
        *,
        tick: float = 2.0,
        min_interval: float = 10.0,
        publisher: HomePublisher | None = None,
    ) -> None:
        self._services = services
        self._tick = tick
        self._min_interval = min_interval
        self._publisher = publisher if publisher is not None else HomePublisher(services)
        self._checked_at = services.clock()
        self._waiting: set[str] = set()  # changed, but published too recently: done at a later pass

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self.run_once()
            await wait_any(stopping, seconds=self._tick)

    async def run_once(self) -> int:
        """One pass; returns how many Home tabs were published."""
        store = self._services.store
        now = self._services.clock()
        changed = await store.creators_changed_since(self._checked_at)
        self._checked_at = now
        candidates = sorted(changed | self._waiting)
        published = 0
        for user, last in (await store.home_users(candidates)).items():
            if last is not None and now - last < self._min_interval:
                self._waiting.add(user)
                continue
            self._waiting.discard(user)
            published += await self._publisher.publish(user)
        self._waiting.intersection_update(candidates)
        return published
