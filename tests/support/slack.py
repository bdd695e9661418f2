"""Slack stand-in fixtures: `slack` is a started `SlackStandIn` (bot/sandbox/standin) on 127.0.0.1, port 0.

Wire the bot to it with `AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)` (any other token is
refused with `invalid_auth`, as Slack would) and the signing secret `slack.signing_secret`, tell it where the
bot listens with `slack.set_bot_url(...)` — or connect it in Socket Mode with `slack.app_token` and set
`slack.sender.transport = "socket"` —, then drive the bot with `slack.sender` and look at `slack.calls`,
`slack.messages(...)`, `slack.ephemerals(...)`, ...
Use `await slack.wait_for(lambda: ...)` rather than sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn

# Slack gives 3 s to use a trigger_id; tests get more so that a loaded CI machine does not flake. The
# trigger is still checked to be one the stand-in issued and used only once.
TEST_TRIGGER_TTL = 30.0


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(trigger_ttl=TEST_TRIGGER_TTL) as standin:
        yield standin


@pytest.fixture
def slack_client(slack: SlackStandIn) -> AsyncWebClient:
    """A real slack_sdk client on the stand-in, retrying one 429 like the bot's client should."""
    return AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
