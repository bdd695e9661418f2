"""Slack events the bot listens to: the bot invited into a channel makes that channel reachable again.

Slack sends `member_joined_channel` for everyone who joins a channel the bot is in; only the bot's own
joining matters here: the channel's waiting notes go out at once instead of at its next try.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.notify.unreachable import reachable_again
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    async def member_joined_channel(event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = event.get("channel")
        if event.get("user") != context.bot_user_id or not isinstance(channel, str) or not channel:
            return
        await reachable_again(services, channel)

    app.event("member_joined_channel")(member_joined_channel)
