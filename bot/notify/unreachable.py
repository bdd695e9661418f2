"""Channels the bot cannot post to (not invited, removed, archived): their notes wait, nothing is lost.

A refused post marks the channel; its notes wait in the outbox and the channel is tried again now and then
(exponential backoff, `ChannelRetry`), and at once when the bot is invited back (`reachable_again`, from
the `member_joined_channel` event). The first post that goes through clears the mark. The job's creator
(or, when it has none, the admins) is told once per outage, by direct message, where to invite the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.records import TrackedJob
from bot.ops.backoff import exponential
from bot.services import Services
from bot.views.notes import unreachable_channel_note
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelRetry:
    """How long an unreachable channel waits before it is tried again: `base`, doubling up to `cap`."""

    base: float = 300.0
    cap: float = 1800.0


DEFAULT_CHANNEL_RETRY = ChannelRetry()


async def mark_unreachable(
    store: Store, channel: str, *, reason: str, now: float, retry: ChannelRetry = DEFAULT_CHANNEL_RETRY
) -> int:
    """Mark `channel` unreachable until its next try (one more failure in a row); its notes wait for it.
    Returns how many notes now wait."""
    mark = await store.unreachable_channel(channel)
    wait = exponential(mark.failures if mark else 0, base=retry.base, cap=retry.cap)
    return await store.mark_channel_unreachable(channel, reason=reason, now=now, retry_at=now + wait)


async def reachable_again(services: Services, channel: str) -> bool:
    """The bot can post in `channel` again: its waiting notes are due now. False if it was not marked."""
    cleared = await services.store.clear_channel_unreachable(channel, now=services.clock())
    if cleared:
        log.info("channel %s is reachable again; its waiting notes go out now", channel)
        services.outbox_ready.set()
    return cleared


async def tell_once(services: Services, slack: AsyncWebClient, channel: str, job: TrackedJob | None) -> None:
    """Tell the job's creator (or the admins) by direct message that the bot cannot post in `channel`,
    once per outage; a message that does not go through is only logged."""
    if not await services.store.claim_unreachable_notice(channel):
        return
    people = [job.creator] if job is not None and job.creator else sorted(services.settings.admin_ids)
    message = unreachable_channel_note(channel)
    for person in people:
        try:
            await slack.chat_postMessage(channel=person, **message.as_kwargs())
        except Exception as exc:  # a person the bot cannot write to: nothing more to do
            log.warning("could not tell %s that %s is unreachable: %s", person, channel, type(exc).__name__)
