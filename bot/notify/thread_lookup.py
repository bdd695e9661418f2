"""Find a reply the notifier already posted, by the message metadata it attaches to every reply.

Used before re-sending a notification whose earlier attempt may have reached Slack (the process died
between Slack's `ok` and the commit, or the answer was lost): if the thread holds a message naming the
same job and transition, that message is the delivery.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

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
    wanted = notification_metadata(job_id, transition)["event_payload"]
    cursor: str | None = None
    for _ in range(max_pages):
        response = await client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in response.get("messages") or []:
            if isinstance(message, dict) and _matches(message, NOTIFICATION_EVENT, wanted):
                return str(message.get("ts"))
        cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            return None
    return None


async def find_card(
    client: AsyncWebClient, channel: str, job_id: str, *, oldest: float, max_pages: int = 5
) -> str | None:
    """The ts of a card for the job posted in the channel since `oldest`, or None."""
    wanted = card_metadata(job_id)["event_payload"]
    cursor: str | None = None
    for _ in range(max_pages):
        response = await client.conversations_history(
            channel=channel, oldest=f"{oldest:.6f}", include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in response.get("messages") or []:
            if isinstance(message, dict) and _matches(message, CARD_EVENT, wanted):
                return str(message.get("ts"))
        cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            return None
    return None
