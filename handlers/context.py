"""What every listener needs, put in Bolt's context by one global middleware (and so injectable by name).

`jobs` (the `JobService`), `followups`, `boundary` (the error boundary, for work after the ack), `request_id`
(a short id for the logs), `actor` (who asked, from which channel) and `request_kind` (for
metrics) are available to any listener, listener middleware or the error boundary that names them.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.service import JobService
from bot.ops.logs import log_context
from bot.views.create_form import channel_of
from handlers.followups import FollowUps

if TYPE_CHECKING:  # handlers.errors imports this module: only the type checker needs the name
    from handlers.errors import ErrorBoundary


@dataclass(frozen=True)
class Intent:
    """What a request asks for, in the words of the permission policy and the audit log."""

    action: Action
    job_id: str | None = None


def request_kind(body: dict[str, Any]) -> str:
    kind = body.get("type")
    if kind == "block_actions":
        return "click"
    if kind == "view_submission":
        return "form"
    if "command" in body and "text" in body:
        return "command"
    return str(kind or "other")


def actor_of(body: dict[str, Any]) -> Actor | None:
    """Who sent the request and from which channel (a form carries its channel in private_metadata)."""
    user = body.get("user_id")
    if not isinstance(user, str):
        user_object = body.get("user")
        user = user_object.get("id") if isinstance(user_object, dict) else None
    channel = body.get("channel_id")
    if not isinstance(channel, str):
        channel_object = body.get("channel")
        channel = channel_object.get("id") if isinstance(channel_object, dict) else None
    if not isinstance(channel, str):
        container = body.get("container")
        channel = container.get("channel_id") if isinstance(container, dict) else None
    if not isinstance(channel, str):
        view = body.get("view")
        metadata = view.get("private_metadata") if isinstance(view, dict) else None
        channel = channel_of(metadata) if isinstance(metadata, str) else None
    if isinstance(user, str) and user and isinstance(channel, str) and channel:
        return Actor(user=user, channel=channel)
    return None


def intent_of(context: AsyncBoltContext) -> Intent | None:
    intent = context.get("intent")
    return intent if isinstance(intent, Intent) else None


def request_log_context(body: dict[str, Any], context: AsyncBoltContext) -> AbstractContextManager[None]:
    """`bot.ops.logs.log_context` with what identifies this request (None fields are left out)."""
    actor = actor_of(body)
    intent = intent_of(context)
    return log_context(
        request_id=context.get("request_id"),
        channel=actor.channel if actor else None,
        user=actor.user if actor else None,
        job_id=intent.job_id if intent else None,
    )


def register(app: AsyncApp, *, jobs: JobService, followups: FollowUps, boundary: ErrorBoundary) -> None:

    @app.middleware
    async def attach_services(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        context["jobs"] = jobs
        context["followups"] = followups
        context["boundary"] = boundary
        context["request_kind"] = request_kind(body)
        context["request_id"] = secrets.token_hex(4)
        actor = actor_of(body)
        if actor is not None:
            context["actor"] = actor
        await next()
