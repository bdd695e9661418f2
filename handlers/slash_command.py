"""The `/finetune` slash command: ack at once, then do the work and answer privately."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actor import Actor
from bot.jobs.grammar import (
    Command,
    CreateJob,
    Help,
    JobAction,
    ListJobs,
    OpenCreateForm,
    ShowCheckpoints,
    ShowEvents,
    ShowStatus,
    Unwatch,
    Watch,
)
from bot.jobs.records import Origin
from bot.jobs.service import JobService
from bot.services import Services
from bot.views import SlackMessage
from bot.views.help import help_message
from bot.views.replies import control_answer, form_opens_alone
from handlers.errors import ErrorBoundary
from handlers.followups import answer_privately
from handlers.middleware import authorize, parse_slash_command


def register(app: AsyncApp, services: Services) -> None:
    app.command(services.settings.command, middleware=[parse_slash_command, authorize])(handle_command)


async def handle_command(
    ack: AsyncAck,
    body: dict[str, Any],
    parsed_command: Command,
    actor: Actor,
    jobs: JobService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        if isinstance(parsed_command, OpenCreateForm):
            # trigger_id expires 3 s after the command was typed: open the form before anything slow.
            trigger_id = body["trigger_id"]
            await jobs.open_create_form(
                actor, lambda view: client.views_open(trigger_id=trigger_id, view=view)
            )
        else:
            answer = await run_command(parsed_command, actor, jobs)
            await answer_privately(
                answer, respond=respond, client=client, channel=actor.channel, user=actor.user
            )


async def run_command(command: Command, actor: Actor, jobs: JobService) -> SlackMessage:
    """What the person sees for a parsed command (errors are raised for the boundary)."""
    match command:
        case Help(topic=topic):
            # Not audited: help reads nothing and concerns no job (the form's opening is: see
            # `JobService.open_create_form`).
            return help_message(jobs.command, topic)
        case CreateJob(spec=spec):
            return await jobs.create(spec, actor, origin=Origin.COMMAND)
        case ListJobs():
            return await jobs.list_jobs(command, actor)
        case JobAction(action=action, job_id=job_id):
            outcome = await jobs.act(action, job_id, actor)
            return control_answer(outcome.summary, outcome.card, card_updated=outcome.card_updated)
        case ShowStatus(job_id=job_id):
            return await jobs.status(job_id, actor)
        case ShowEvents(job_id=job_id, limit=limit):
            return await jobs.events(job_id, limit, actor)
        case ShowCheckpoints(job_id=job_id):
            return await jobs.checkpoints(job_id, actor)
        case Watch(job_id=job_id):
            return await jobs.watch(job_id, actor)
        case Unwatch(job_id=job_id):
            return await jobs.unwatch(job_id, actor)
        case OpenCreateForm():
            return form_opens_alone(jobs.command)
