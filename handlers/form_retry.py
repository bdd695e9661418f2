"""The "Fix and retry" button under a refused create form's note: reopens the form as it was typed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.service import JobService
from bot.services import Services
from bot.views.actions import ACTION_FIX_AND_RETRY
from bot.views.create_form import create_modal
from bot.views.form_retry import FormRetry, retry_expired_note
from handlers.context import Intent
from handlers.errors import ErrorBoundary
from handlers.followups import answer_privately
from handlers.middleware import Next, authorize


def register(app: AsyncApp, services: Services) -> None:
    app.action(ACTION_FIX_AND_RETRY, middleware=[read_fix_and_retry, authorize])(handle_fix_and_retry)


async def read_fix_and_retry(context: AsyncBoltContext, next: Next) -> None:
    """Reopening a form is opening one: the same rule (anyone may) and the same audit entry."""
    context["intent"] = Intent(Action.OPEN_FORM)
    await next()


async def handle_fix_and_retry(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    actor: Actor,
    jobs: JobService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        retry = FormRetry.decode(action.get("value"))
        if retry is None:
            await jobs.record_refusal(Action.OPEN_FORM, None, actor, "a Fix and retry button I did not make")
            await answer_privately(
                retry_expired_note(), respond=respond, client=client, channel=actor.channel, user=actor.user
            )
            return
        # The trigger id expires 3 s after the click: open the form before anything slow.
        trigger_id = body["trigger_id"]
        form = create_modal(
            channel_id=retry.channel, command=jobs.command, initial=retry.values, notes=retry.notes
        )
        await jobs.open_create_form(actor, lambda: client.views_open(trigger_id=trigger_id, view=form))
