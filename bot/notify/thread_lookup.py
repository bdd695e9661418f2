"""Find a reply the notifier already posted, by the message metadata it attaches to every reply.

Used before re-sending a notification whose earlier attempt may have reached Slack (the process died
between Slack's `ok` and the commit, or the answer was lost): if the thread holds a message naming the
same job and transition, that message is the delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.views.outbound import safe_tree

NOTIFICATION_EVENT = "tuneops_notification"
CARD_EVENT = "tuneops_card"


def notification_metadata(job_id: str, transition: str) -> dict[str, Any]:
    """A transition names an API status, someone else's words: made safe like any text sent to Slack."""
    payload = safe_tree({"job_id": job_id, "transition": transition})
    return {"event_type": NOTIFICATION_EVENT, "event_payload": payload}


def card_metadata(job_id: str) -> dict[str, Any]:
    return {"event_type": CARD_EVENT, "event_payload": safe_tree({"job_id": job_id})}


def _matches(message: dict[str, Any], event_type: str, payload: dict[str, str]) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != event_type:
        return False
    found = metadata.get("event_payload")
    return isinstance(found, dict) and all(found.get(key) == value for key, value in payload.items())


async def find_reply(
    client: AsyncWebClient, channel: str, thread_ts: str, job_id: str, transition: str, *, max_pages: int = 20
) -> str | None:
    """The ts of the reply for (job, transition) in the thread, or None. Slack errors propagate."""

    async def page(cursor: str | None) -> AsyncSlackResponse:
        return await client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
        )

    wanted = notification_metadata(job_id, transition)
    return await _search(page, wanted, max_pages=max_pages)


async def find_card(
    client: AsyncWebClient, channel: str, job_id: str, *, oldest: float, max_pages: int = 5
) -> str | None:
    """The ts of a card for the job posted in the channel since `oldest`, or None."""

    async def page(cursor: str | None) -> AsyncSlackResponse:
        return await client.conversations_history(
            channel=channel, oldest=f"{oldest:.6f}", include_all_metadata=True, limit=200, cursor=cursor
        )

    return await _search(page, card_metadata(job_id), max_pages=max_pages)


async def _search(
    page: Callable[[str | None], Awaitable[AsyncSlackResponse]], wanted: dict[str, Any], *, max_pages: int
) -> str | None:
    """Walk the pages of messages for the first one carrying `wanted`'s metadata; its ts."""
    cursor: str | None = None
    for _ in range(max_pages):
        response = await page(cursor)
        for message in response.get("messages") or []:
            if isinstance(message, dict) and _matches(message, wanted["event_type"], wanted["event_payload"]):
                return str(message.get("ts"))
        cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            return None
    return None
