"""The channel settings form's submission: saved, audited, and the person told what the channel hears now."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actor import Actor
from bot.jobs.service import JobService
from bot.services import Services
from bot.views.settings_form import SETTINGS_CALLBACK_ID, parse_settings_form
from bot.views.subscriptions import settings_saved
from handlers.errors import ErrorBoundary
from handlers.followups import answer_directly, answer_privately
from handlers.middleware import authorize, read_settings_form


def register(app: AsyncApp, services: Services) -> None:
    app.view(SETTINGS_CALLBACK_ID, middleware=[read_settings_form, authorize])(handle_settings_form)


async def handle_settings_form(
    ack: AsyncAck,
    view: dict[str, Any],
    actor: Actor,
    jobs: JobService,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    settings = parse_settings_form((view.get("state") or {}).get("values") or {})
    async with boundary.ack_then_work(ack, body, context):
        saved = await jobs.channels.save_settings(settings, actor)
        answer = settings_saved(saved, channel=actor.channel)
        if not await answer_privately(
            answer, respond=None, client=client, channel=actor.channel, user=actor.user
        ):
            await answer_directly(answer, client=client, user=actor.user)
