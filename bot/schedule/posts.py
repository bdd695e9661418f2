"""Delivering channel posts (digests, quiet-hours summaries) exactly once.

A post is marked sent only once Slack says `ok`. Each carries metadata naming its key, so a post whose
earlier attempt may have reached Slack (a lost answer, a process that died before recording it) is first
looked for in the channel's recent history. Failures wait with backoff; a post refused for good, or still
failing after a day, is given up.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.backoff import JitteredBackoff
from bot.schedule.records import ChannelPost, PostKind
from bot.services import Services
from bot.views.message import SlackMessage
from bot.views.outbound import safe_tree
from bot.views.retirement import shutdown_notice_message
from bot.views.schedule import digest_message, quiet_summary_message

log = logging.getLogger(__name__)

CHANNEL_POST_EVENT = "tuneops_channel_post"
GIVE_UP_AFTER = 24 * 3600.0
LOOKUP_PAGES = 5
# Slack's answers that no retry will change.
_FINAL_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "not_in_channel", "invalid_blocks", "msg_too_long", "no_text"}
)


def post_metadata(post: ChannelPost) -> dict[str, Any]:
    return {"event_type": CHANNEL_POST_EVENT, "event_payload": safe_tree({"key": post.key})}


def render(post: ChannelPost) -> SlackMessage:
    if post.kind is PostKind.DIGEST:
        return digest_message(post.payload)
    if post.kind is PostKind.SHUTDOWN_NOTICE:
        return shutdown_notice_message(post.payload)
    return quiet_summary_message(post.payload)


class ChannelPosts:
    def __init__(self, services: Services, *, lease: float = 60.0, retry_base: float = 2.0) -> None:
        self._services = services
        self._store = services.store
        self._lease = lease
        self._backoff = JitteredBackoff(base=retry_base, cap=600.0, share=0.5)
        self._poster: AsyncWebClient | None = None

    @property
    def _client(self) -> AsyncWebClient:
        """The service's client without its retries: a post retried inside the client after a lost answer
        could land twice; a failure here waits in storage instead (and the channel is looked at first)."""
        shared = self._services.slack
        if self._poster is None or self._poster.session is not shared.session:
            self._poster = AsyncWebClient(
                token=shared.token,
                base_url=shared.base_url,
                session=shared.session,
                timeout=shared.timeout,
                retry_handlers=[],
                logger=logging.getLogger("tuneops.schedule.slack"),
            )
        return self._poster

    async def deliver_due(self, *, limit: int = 20) -> int:
        """Deliver the due posts; return how many were sent."""
        sent = 0
        claimed = await self._store.claim_channel_posts(
            now=self._services.clock(), limit=limit, lease=self._lease
        )
        for post in claimed:
            sent += await self._deliver(post)
        return sent

    async def _deliver(self, post: ChannelPost) -> int:
        client = self._client
        try:
            ts = await self._already_posted(post) if post.attempts > 1 else None
            if ts is None:
                message = render(post)
                answer = await client.chat_postMessage(
                    channel=post.channel, metadata=post_metadata(post), **message.as_kwargs()
                )
                ts = str(answer.get("ts"))
        except SlackApiError as error:
            code = str(error.response.get("error") or "error")
            await self._failed(post, f"slack: {code}", final=code in _FINAL_ERRORS)
            return 0
        except (OSError, TimeoutError, aiohttp.ClientError) as error:  # it may or may not have landed
            await self._failed(post, f"connection: {type(error).__name__}", final=False)
            return 0
        await self._store.channel_post_sent(post.id, ts=ts, now=self._services.clock())
        return 1

    async def _failed(self, post: ChannelPost, error: str, *, final: bool) -> None:
        now = self._services.clock()
        if final or now - post.created_at >= GIVE_UP_AFTER:
            log.error("giving up the %s post %s in %s: %s", post.kind, post.key, post.channel, error)
            await self._store.channel_post_given_up(post.id, error=error, now=now)
            return
        wait = self._backoff.wait(post.attempts - 1)
        await self._store.channel_post_retry(post.id, error=error, next_attempt_at=now + wait)

    async def _already_posted(self, post: ChannelPost) -> str | None:
        """The ts of this post if an earlier attempt landed: among the channel's latest messages (a post is
        retried within a day, so those are where it would be)."""
        cursor: str | None = None
        try:
            for _ in range(LOOKUP_PAGES):
                answer = await self._client.conversations_history(
                    channel=post.channel, include_all_metadata=True, limit=200, cursor=cursor
                )
                for message in answer.get("messages") or []:
                    if isinstance(message, dict) and _carries(message, post.key):
                        return str(message.get("ts"))
                cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        except SlackApiError:
            return None  # a history the bot may not read: a rare repeat beats silence
        return None


def _carries(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != CHANNEL_POST_EVENT:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key
