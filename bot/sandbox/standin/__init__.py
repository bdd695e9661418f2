"""A local Slack for tests and the sandbox: a fake Web API (real HTTP), a response_url sink, a web page
that looks like a Slack channel, and a sender that plays Slack's part towards the bot with signed requests.

    from bot.sandbox.standin import SlackStandIn

    async with SlackStandIn() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ...
"""

from __future__ import annotations

from bot.sandbox.standin.models import StoredMessage
from bot.sandbox.standin.payloads import MissingRequiredInput
from bot.sandbox.standin.sender import SentRequest, sign
from bot.sandbox.standin.server import SlackStandIn

__all__ = ["MissingRequiredInput", "SentRequest", "SlackStandIn", "StoredMessage", "sign"]
