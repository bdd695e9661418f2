"""The direct message to a job's creator when it finishes, for channels whose settings ask for it.

Sent after the thread reply went out, at most once per job and change however many channels ask for it
(a delivery key in the store). It is a courtesy: a failure is logged, never retried, and never holds the
channel's notes back.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.records import OutboxItem, TrackedJob
from bot.notify.cards import CARD_POST_FAILURES
from bot.services import Services
from bot.views.message import SlackMessage
from bot.views.notes import finished_direct_message

log = logging.getLogger(__name__)

DM_KEY_TTL = 30 * 86400.0


async def tell_creator(
    services: Services, slack: AsyncWebClient, item: OutboxItem, job: TrackedJob, note: SlackMessage
) -> bool:
    """DM the job's creator the note just posted in `item.channel`; True when Slack took it."""
    if job.creator is None:
        return False
    key = f"dm:{job.job_id}:{item.transition}"
    if not await services.store.remember_delivery(key, now=services.clock(), ttl=DM_KEY_TTL):
        return False  # another channel's note told them already
    message = finished_direct_message(note, channel=item.channel)
    try:
        await slack.chat_postMessage(channel=job.creator, **message.as_kwargs())
    except CARD_POST_FAILURES as error:
        log.warning("could not send %s the end of %s directly (%s)", job.creator, job.job_id, error)
        return False
    return True
