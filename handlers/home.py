"""The app's Home tab: `app_home_opened` publishes it; its buttons act on a job as its card's would.

A click on the Home tab comes with no channel: the job's own channel stands in for it, so the policy asks
exactly what it asks of a click on the job's card there (the creator or an admin may pause, resume or
cancel). The answer to a refused or failed click goes to the person privately in that channel, and the
Home tab is published again to show the job as it is now.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from bot.home.publisher import HomePublisher
from bot.jobs.actions import Action, control_action
from bot.jobs.actor import Actor
from bot.jobs.grammar import looks_like_job_id
from bot.jobs.service import JobService
from bot.services import Services
from bot.views.home import HOME_BUTTON_VERBS
from handlers.context import Intent
from handlers.errors import ErrorBoundary, PermissionRefused
from handlers.middleware import authorize

Next = Callable[[], Awaitable[None]]
HOME_BUTTONS = re.compile("^(" + "|".join(re.escape(a) for a in HOME_BUTTON_VERBS) + ")$")


def register(app: AsyncApp, services: Services) -> None:
    publisher = HomePublisher(services)

    async def app_home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        await publisher.opened(user)

    async def read_home_button(
        action: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, jobs: JobService, next: Next
    ) -> None:
        verb = HOME_BUTTON_VERBS[str(action.get("action_id"))]
        value = action.get("value")
        user = (body.get("user") or {}).get("id")
        if not isinstance(value, str) or not looks_like_job_id(value) or not isinstance(user, str):
            raise PermissionRefused(
                "This button doesn't name a job I can act on, so I did nothing.", Intent(verb)
            )
        tracked = await services.store.get_job(value)
        if tracked is None:
            raise PermissionRefused(
                "TuneOps no longer follows this job, so I did nothing.", Intent(verb, value)
            )
        context["actor"] = Actor(user=user, channel=tracked.owner_channel)
        context["intent"] = Intent(verb, value)
        await next()

    async def handle_home_button(
        ack: AsyncAck,
        body: dict[str, Any],
        intent: Intent,
        actor: Actor,
        jobs: JobService,
        context: AsyncBoltContext,
        boundary: ErrorBoundary,
    ) -> None:
        async with boundary.ack_then_work(ack, body, context):
            job_id = intent.job_id or ""
            try:
                verb = control_action(intent.action)
                if verb is not None:
                    await jobs.act(verb, job_id, actor)
                elif intent.action is Action.REFRESH:
                    await jobs.refresh(job_id, actor)
            finally:
                await publisher.publish(actor.user)

    app.event("app_home_opened")(app_home_opened)
    app.action(HOME_BUTTONS, middleware=[read_home_button, authorize])(handle_home_button)
