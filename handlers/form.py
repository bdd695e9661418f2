"""The create form's submission: field errors go back into the modal; a good form closes it and starts the job."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actor import Actor
from bot.jobs.records import Origin
from bot.jobs.service import JobService
from bot.ops.metrics import SLACK_REQUESTS
from bot.services import Services
from bot.views.actions import CREATE_CALLBACK_ID
from bot.views.answers import create_answer
from bot.views.create_form import parse_create_form, unreachable_channel_errors
from bot.views.outbound import safe_tree
from handlers.errors import ErrorBoundary
from handlers.followups import answer_directly, answer_privately
from handlers.middleware import authorize, read_create_form


def register(app: AsyncApp, services: Services) -> None:
    app.view(CREATE_CALLBACK_ID, middleware=[read_create_form, authorize])(handle_create_form)


async def handle_create_form(
    ack: AsyncAck,
    view: dict[str, Any],
    actor: Actor,
    jobs: JobService,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    values = (view.get("state") or {}).get("values") or {}
    spec, errors = parse_create_form(values, provider=jobs.provider)
    if errors or spec is None:
        # Shown under each field by Slack; the modal stays open for the fix.
        await ack(response_action="errors", errors=safe_tree(errors or {"model": "Please check the form."}))
        SLACK_REQUESTS.labels("form", "bad_input").inc()
        return
    # Storage only (fast enough before the ack): a channel known to refuse the bot's posts would leave the
    # new, billed job without a card anyone sees. Ask for an invitation first, in the form.
    unreachable = await jobs.form_held_back(actor)
    if unreachable is not None:
        await ack(response_action="errors", errors=safe_tree(unreachable_channel_errors(unreachable)))
        SLACK_REQUESTS.labels("form", "held_back").inc()
        async with boundary.after_ack(body, context):
            await jobs.record_form_held_back(actor, unreachable)
        return
    async with boundary.ack_then_work(ack, body, context):
        created = await jobs.create(spec, actor, origin=Origin.FORM)
        answer = create_answer(created, command=jobs.command, now=jobs.clock(), prices=jobs.prices)
        # A form has no response_url: the answer goes to the job's channel, visible to this person only;
        # where the bot cannot post even that (not a member, archived), to the person directly.
        if not await answer_privately(
            answer, respond=None, client=client, channel=actor.channel, user=actor.user
        ):
            await answer_directly(answer, client=client, user=actor.user)
