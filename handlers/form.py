"""The create form's submission: field errors go back into the modal; a good form closes it and starts the job."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.errors import APIStatusError
from bot.jobs.actor import Actor
from bot.jobs.records import Origin
from bot.jobs.service import JobService
from bot.ops.metrics import SLACK_REQUESTS
from bot.services import Services
from bot.views import SlackMessage
from bot.views.actions import CREATE_CALLBACK_ID
from bot.views.answers import create_answer
from bot.views.create_form import parse_create_form, typed_values, unreachable_channel_errors
from bot.views.form_retry import FormRetry, notes_for, refused_form_note
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
    # The API is asked (briefly) whether the model and files exist: a wrong id is shown under its field.
    missing = await jobs.problems_before_create(spec)
    if missing:
        await ack(response_action="errors", errors=safe_tree(missing))
        SLACK_REQUESTS.labels("form", "not_found").inc()
        return
    async with boundary.ack_then_work(ack, body, context):
        try:
            created = await jobs.create(spec, actor, origin=Origin.FORM)
        except APIStatusError as error:
            if not refused_for_good(error):
                raise  # the error boundary explains a failure (the job may have started)
            answer = refused_form_answer(error, channel=actor.channel, typed=typed_values(values))
        else:
            answer = create_answer(created, command=jobs.command, now=jobs.clock())
        # A form has no response_url: the answer goes to the job's channel, visible to this person only;
        # where the bot cannot post even that (not a member, archived), to the person directly.
        if not await answer_privately(
            answer, respond=None, client=client, channel=actor.channel, user=actor.user
        ):
            await answer_directly(answer, client=client, user=actor.user)


def refused_for_good(error: APIStatusError) -> bool:
    """A 4xx other than a timeout or too many requests: the API looked at the job and said no to it."""
    return 400 <= error.status_code < 500 and error.status_code not in (408, 429)


def refused_form_answer(error: APIStatusError, *, channel: str, typed: dict[str, str]) -> SlackMessage:
    said = error.message + (f" ({error.code})" if error.code else "")
    retry = FormRetry(channel=channel, values=typed, notes=notes_for(error.param, said))
    return refused_form_note(retry, api_said=said)
