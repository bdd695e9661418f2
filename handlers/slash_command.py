"""The `/finetune` slash command: ack at once, then do the work and answer privately."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actor import Actor
from bot.jobs.after_training import AFTER_TRAINING_COMMANDS
from bot.jobs.deploy import DeployService
from bot.jobs.grammar import (
    Command,
    CreateJob,
    Help,
    JobAction,
    ListJobs,
    ListSubscriptions,
    OpenCreateForm,
    OpenSettings,
    OpenUploadForm,
    ShowAudit,
    ShowChart,
    ShowCheckpoints,
    ShowEvents,
    ShowStatus,
    Subscribe,
    Unsubscribe,
    Unwatch,
    Watch,
)
from bot.jobs.outcomes import ActionNotSent
from bot.jobs.records import Origin
from bot.jobs.service import JobService
from bot.schedule.commands import SetDigest, SetQuiet
from bot.schedule.service import ChannelSchedules
from bot.services import Services
from bot.views import SlackMessage
from bot.views.answers import (
    create_answer,
    follow_answer,
    not_sent_answer,
    typed_action_answer,
    unfollow_answer,
)
from bot.views.card import job_card
from bot.views.card_states import without_buttons
from bot.views.chart import chart_posted, nothing_to_chart
from bot.views.checkpoints import checkpoints_message
from bot.views.create_form import create_modal
from bot.views.events import events_message
from bot.views.help import help_message
from bot.views.lists import job_list_page
from bot.views.replies import form_opens_alone
from bot.views.settings_form import settings_modal
from bot.views.subscriptions import (
    audit_message,
    subscribed_answer,
    subscriptions_message,
    unsubscribed_answer,
)
from bot.views.upload_form import upload_modal
from handlers.after_training import run_after_training
from handlers.errors import ErrorBoundary
from handlers.followups import answer_privately
from handlers.middleware import authorize, parse_slash_command
from handlers.schedules import attach_schedules, schedule_command


def register(app: AsyncApp, services: Services) -> None:
    app.command(
        services.settings.command, middleware=[parse_slash_command, authorize, attach_schedules(services)]
    )(handle_command)


async def handle_command(
    ack: AsyncAck,
    body: dict[str, Any],
    parsed_command: Command,
    actor: Actor,
    jobs: JobService,
    deploys: DeployService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
    schedules: ChannelSchedules,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        if isinstance(parsed_command, OpenCreateForm):
            # trigger_id expires 3 s after the command was typed: open the form before anything slow.
            trigger_id = body["trigger_id"]
            form = create_modal(channel_id=actor.channel, command=jobs.command)
            await jobs.open_create_form(actor, lambda: client.views_open(trigger_id=trigger_id, view=form))
        elif isinstance(parsed_command, AFTER_TRAINING_COMMANDS):
            answer = await run_after_training(parsed_command, actor, deploys, client)
            await answer_privately(
                answer, respond=respond, client=client, channel=actor.channel, user=actor.user
            )
        elif isinstance(parsed_command, OpenSettings):
            trigger = body["trigger_id"]
            await jobs.channels.open_settings(
                actor,
                lambda settings: client.views_open(
                    trigger_id=trigger, view=settings_modal(channel_id=actor.channel, settings=settings)
                ),
            )
        elif isinstance(parsed_command, OpenUploadForm):
            await client.views_open(
                trigger_id=body["trigger_id"], view=upload_modal(channel_id=actor.channel)
            )
        else:
            answer = await run_command(parsed_command, actor, jobs, schedules)
            await answer_privately(
                answer, respond=respond, client=client, channel=actor.channel, user=actor.user
            )


async def run_command(
    command: Command, actor: Actor, jobs: JobService, schedules: ChannelSchedules
) -> SlackMessage:
    """What the person sees for a parsed command (errors are raised for the boundary)."""
    match command:
        case Help(topic=topic):
            # Not audited: help reads nothing and concerns no job (the form's opening is: see
            # `JobService.open_create_form`).
            return help_message(jobs.command, topic)
        case CreateJob(spec=spec):
            created = await jobs.create(spec, actor, origin=Origin.COMMAND)
            return create_answer(created, command=jobs.command, now=jobs.clock(), prices=jobs.prices)
        case ListJobs():
            return job_list_page(await jobs.list_jobs(command, actor))
        case JobAction(action=action, job_id=job_id):
            done = await jobs.act(action, job_id, actor)
            if isinstance(done, ActionNotSent):
                return not_sent_answer(done)
            return typed_action_answer(done, now=jobs.clock(), prices=jobs.prices)
        case ShowStatus(job_id=job_id):
            shown = await jobs.status(job_id, actor)
            card = job_card(
                shown.job, shown.tracked, jobs.clock(), provider=jobs.provider, prices=jobs.prices
            )
            # Shown to this person only: without the buttons they could only be refused.
            return without_buttons(card, await jobs.refused_buttons(job_id, actor))
        case ShowEvents(job_id=job_id, limit=limit):
            events = await jobs.events(job_id, limit, actor)
            return events_message(events.job_id, events.events)
        case ShowChart(job_id=job_id):
            charted = await jobs.chart(job_id, actor)
            if not charted.posted:
                return nothing_to_chart(job_id)
            return chart_posted(job_id, in_thread=charted.in_thread)
        case ShowCheckpoints(job_id=job_id):
            checkpoints = await jobs.checkpoints(job_id, actor)
            return checkpoints_message(checkpoints.job_id, checkpoints.checkpoints)
        case Watch(job_id=job_id):
            followed = await jobs.watch(job_id, actor)
            return follow_answer(followed, command=jobs.command, now=jobs.clock(), prices=jobs.prices)
        case Unwatch(job_id=job_id):
            return unfollow_answer(await jobs.unwatch(job_id, actor), command=jobs.command)
        case Subscribe(filter=job_filter):
            return subscribed_answer(await jobs.channels.subscribe(job_filter, actor), command=jobs.command)
        case ListSubscriptions():
            return subscriptions_message(await jobs.channels.subscriptions(actor), command=jobs.command)
        case Unsubscribe(number=number):
            return unsubscribed_answer(await jobs.channels.unsubscribe(number, actor), command=jobs.command)
        case ShowAudit(request=request):
            return audit_message(await jobs.channels.audit(request, actor))
        case OpenCreateForm() | OpenSettings():
            return form_opens_alone(jobs.command)
        case SetDigest() | SetQuiet():
            return await schedule_command(command, actor, schedules, slash=jobs.command)
        case OpenUploadForm():
            return help_message(jobs.command, "upload")
        case _:  # the after-training commands are run by handlers/after_training.py
            raise AssertionError(f"not a job command: {command!r}")
