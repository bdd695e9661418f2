"""Events API deliveries from the stand-in: what Slack sends when something happens in a channel.

`invite_bot(standin, channel)` plays `/invite @TuneOps`: the bot may post in the channel again, and the
bot is sent `member_joined_channel` for its own user, over HTTP (signed) or Socket Mode like any request.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

from bot.sandbox.standin.models import JSON
from bot.sandbox.standin.payloads import VERIFICATION_TOKEN
from bot.sandbox.standin.sender import SentRequest

if TYPE_CHECKING:
    from bot.sandbox.standin.server import SlackStandIn


def event_callback(standin: SlackStandIn, event: JSON) -> JSON:
    """The Events API envelope Slack wraps `event` in."""
    workspace = standin.workspace
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": workspace.team_id,
        "api_app_id": workspace.app_id,
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": workspace.team_id, "user_id": workspace.bot_user_id, "is_bot": True}],
    }


async def send_event(standin: SlackStandIn, event: JSON) -> SentRequest:
    """Deliver one event to the bot the way the sender delivers everything else."""
    payload = event_callback(standin, event)
    sender = standin.sender
    if sender.transport == "socket":
        return await sender.send_envelope("events_api", payload, accepts_response_payload=False)
    return await sender.signed_post(json.dumps(payload).encode(), "application/json")


async def invite_bot(standin: SlackStandIn, channel: str, *, inviter: str = "U_ALICE") -> SentRequest:
    """Someone invites the bot into `channel`: it may post there again, and is told it joined."""
    standin.set_channel_state(channel, "ok")
    return await send_event(
        standin,
        {
            "type": "member_joined_channel",
            "user": standin.workspace.bot_user_id,
            "channel": channel,
            "channel_type": "C",
            "team": standin.workspace.team_id,
            "inviter": inviter,
        },
    )
