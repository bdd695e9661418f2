"""Answering the person privately, and the answers that go out after Slack already has its ack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.views import SlackMessage

log = logging.getLogger(__name__)

RESPONSE_URL_TIMEOUT = 10


def as_message(answer: SlackMessage | str) -> SlackMessage:
    return SlackMessage(text=answer, blocks=[]) if isinstance(answer, str) else answer


async def post_to_response_url(url: str, body: dict[str, Any], *, client: AsyncWebClient | None) -> bool:
    """POST a message to a response_url; True when Slack took it. Uses the bot's long-lived HTTP session
    when there is one (Bolt's `respond()` opens and closes a session, and a TLS connection, per call)."""
    webhook = AsyncWebhookClient(
        url=url, session=client.session if client is not None else None, timeout=RESPONSE_URL_TIMEOUT
    )
    try:
        sent = await webhook.send_dict(body)
    except Exception as exc:  # network trouble: the caller falls back to the Web API
        log.warning("response_url post failed (%s)", type(exc).__name__)
        return False
    if sent.status_code != 200:
        log.warning("response_url answered HTTP %s", sent.status_code)
        return False
    return True


async def answer_privately(
    answer: SlackMessage | str,
    *,
    respond: AsyncRespond | None,
    client: AsyncWebClient | None,
    channel: str | None,
    user: str | None,
) -> bool:
    """Show `answer` to `user` only: through the request's response_url when there is one (it works even
    where the bot is not a member), else `chat.postEphemeral`. True when Slack took it."""
    message = as_message(answer)
    kwargs: dict[str, Any] = {"text": message.text}
    if message.blocks:
        kwargs["blocks"] = message.blocks
    if respond is not None and respond.response_url:
        body = {"response_type": "ephemeral", "replace_original": False, **kwargs}
        if await post_to_response_url(respond.response_url, body, client=client):
            return True
    if client is None or not channel or not user:
        log.warning("no way to answer user %s privately in channel %s", user, channel)
        return False
    try:
        await client.chat_postEphemeral(channel=channel, user=user, **kwargs)
    except SlackApiError as exc:
        log.warning("chat.postEphemeral to %s failed: %s", channel, exc.response.get("error"))
        return False
    return True


async def answer_directly(answer: SlackMessage | str, *, client: AsyncWebClient, user: str) -> bool:
    """Send `answer` to `user` as a direct message from the bot (chat.postMessage to a user id opens the
    conversation): for when the channel refuses even a private message. True when Slack took it."""
    message = as_message(answer)
    kwargs: dict[str, Any] = {"text": message.text}
    if message.blocks:
        kwargs["blocks"] = message.blocks
    try:
        await client.chat_postMessage(channel=user, **kwargs)
    except SlackApiError as exc:
        log.warning("direct message to %s failed: %s", user, exc.response.get("error"))
        return False
    return True


class FollowUps:
    """Work started after the HTTP answer went out (an answer to a request refused before its ack).

    Keeps a strong reference to each task (asyncio only keeps weak ones), logs failures, and lets the
    runtime wait for the stragglers at shutdown.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def adopt_current(self) -> None:
        """Count the running task (a listener working after its ack) among those shutdown waits for."""
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("follow-up %s failed", task.get_name(), exc_info=task.exception())

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float, *, last_words: float = 0.0) -> None:  # noqa: ASYNC109
        """Wait up to `timeout` seconds for pending follow-ups, then cancel the rest and give them up to
        `last_words` seconds to end: a cancelled create still audits and answers (`bot.jobs.interrupted`)."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in late:
            task.cancel()
        if not late:
            return
        if last_words <= 0:
            await asyncio.gather(*late, return_exceptions=True)
            return
        _, stuck = await asyncio.wait(late, timeout=last_words)
        if stuck:
            log.warning("%d follow-up(s) still running after being cancelled at shutdown", len(stuck))
