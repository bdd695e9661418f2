"""Delivering an outbox `chart` row: the job's loss curve uploaded into its card's thread, once.

`ReplyDelivery` hands the row here in place of posting a note and marks it sent with what this returns:
the file's id, or "" when the job has no figures to draw (nothing is posted then). Failures come back as
`DeliveryFailed`, so the row is retried, paced and given up like any note. The API's figures are read at
delivery, not when the row was queued: the results file exists only once the job has ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.errors import FineTuneError
from bot.jobs.records import OutboxItem
from bot.notify.chart_upload import chart_filename, draw_chart, find_chart, upload_chart
from bot.notify.pacing import RateLimiter
from bot.notify.slack_failures import DeliveryFailed, FailureKind, SlackFailure, classify, look_before_posting
from bot.services import Services

log = logging.getLogger(__name__)


class ChartDelivery:
    def __init__(
        self,
        services: Services,
        *,
        slack: Callable[[], AsyncWebClient],
        requests: asyncio.Semaphore,
        pacer: RateLimiter,
    ) -> None:
        self._services = services
        self._slack = slack
        self._requests = requests
        self._pacer = pacer

    async def deliver(self, item: OutboxItem, card_ts: str, *, check_thread: bool) -> str:
        """Upload the chart of `item`'s job into the thread of `card_ts`; the file id ("" if none)."""
        filename = chart_filename(item.job_id, item.transition)
        if check_thread:
            found = await look_before_posting(
                find_chart(self._slack(), item.channel, card_ts, filename),
                self._requests,
                f"the thread of {item.job_id} in {item.channel}",
            )
            if found is not None:
                log.info("the chart of %s was already in the thread of %s", item.job_id, item.channel)
                return found
        try:
            chart = await draw_chart(self._services.api, item.job_id, filename=filename)
        except FineTuneError as exc:
            # The API is the one failing: try again later, like a Slack hiccup (nothing was posted).
            raise DeliveryFailed(
                SlackFailure(FailureKind.TRANSIENT, f"reading the job's figures: {exc}", maybe_posted=False)
            ) from exc
        if chart is None:
            log.info("%s reported no training figures: no chart for %s", item.job_id, item.channel)
            return ""
        await self._pacer.take(item.channel)
        try:
            async with self._requests:
                return await upload_chart(self._slack(), chart, channel=item.channel, thread_ts=card_ts)
        except Exception as exc:
            failure = classify(exc)
            if failure.error == "missing_scope":
                # The app lacks files:write: no retry can help until it is reinstalled with it.
                log.warning("cannot upload the chart of %s: the app needs the files:write scope", item.job_id)
                failure = SlackFailure(FailureKind.PERMANENT, failure.error, maybe_posted=False)
            raise DeliveryFailed(failure) from exc
