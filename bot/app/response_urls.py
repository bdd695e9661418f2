"""Answers go to a request's `response_url` only when it is Slack's: its hooks host, or the Slack base
this bot is configured with (the stand-in). Any other URL in a body is dropped before a listener sees it,
and the person is answered with `chat.postEphemeral` instead: a body must never make the bot POST to an
address of its choosing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from slack_bolt.context.async_context import AsyncBoltContext

log = logging.getLogger(__name__)

SLACK_HOOKS: tuple[str, str, int | None] = ("https", "hooks.slack.com", None)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


class ResponseUrlGuard:
    """A global Bolt middleware: `app.middleware(ResponseUrlGuard(settings.slack_api_url))`."""

    def __init__(self, slack_api_url: str) -> None:
        self._allowed: set[tuple[str, str, int | None]] = {SLACK_HOOKS}
        configured = _origin(slack_api_url)
        if configured is not None:
            self._allowed.add(configured)

    def allows(self, url: str) -> bool:
        return _origin(url) in self._allowed

    async def __call__(self, context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        url = context.response_url
        if url and not self.allows(url):
            log.warning("dropped a response_url that is not Slack's (host %s)", urlsplit(url).hostname)
            context["response_url"] = None
            context.pop("respond", None)
        await next()
