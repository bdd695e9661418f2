"""A job's card in a channel: posted once (with metadata the notifier can find it by), remembered in
storage, edited in place; and the explanation when Slack will not let the bot post there."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.audit import Actor, failure_text
from bot.services import Services
from bot.slack_failures import UNREACHABLE_ERRORS
from bot.thread_lookup import card_metadata
from bot.views import SlackMessage
from bot.views.replies import card_not_posted
from storage.records import TrackedJob

log = logging.getLogger(__name__)

CARD_POST_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError)


class ChannelCards:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def post(self, tracked: TrackedJob, channel: str, card: SlackMessage) -> str | None:
        """Post the card of a job `channel` follows and remember it; Slack's error when not possible."""
        ts, problem = await self._send(tracked.job_id, channel, card)
        await self._remember(tracked, channel, ts, problem)
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

    def not_posted(self, job_id: str, problem: str, card: SlackMessage, *, started: bool) -> SlackMessage:
        """Why the card is not in the channel and how to fix it, followed by the card itself."""
        return card_not_posted(
            job_id,
            card,
            problem=problem,
            unreachable=problem in UNREACHABLE_ERRORS,
            started=started,
            command=self._services.settings.command,
        )

    async def _send(self, job_id: str, channel: str, card: SlackMessage) -> tuple[str | None, str | None]:
        """(ts, None) when posted; (None, Slack's error) when not."""
        try:
            answer = await self._services.slack.chat_postMessage(
                channel=channel, metadata=card_metadata(job_id), **card.as_kwargs()
            )
        except CARD_POST_FAILURES as error:
            reason = (
                str(error.response.get("error") or "unknown")
                if isinstance(error, SlackApiError)
                else "unreachable"
            )
            log.warning("could not post the card of %s in %s: %s", job_id, channel, reason)
            return None, reason
        return str(answer["ts"]), None

    async def _remember(self, tracked: TrackedJob, channel: str, ts: str | None, problem: str | None) -> None:
        store = self._services.store
        now = self._services.clock()
        if ts is not None:
            await store.set_card(tracked.job_id, channel, ts=ts, version=tracked.version, now=now)
        elif problem in UNREACHABLE_ERRORS:
            await store.mark_channel_unreachable(channel, reason=str(problem), now=now)
