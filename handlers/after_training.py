"""After training, from Slack: the Deploy and Try buttons on a succeeded job's card, the Try prompt form,
the undeploy confirm button, and `deploy`, `deployments`, `undeploy` and `try` typed.

`deploys` (the `DeployService`) is put in every listener's context by this module's middleware.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.management import Deployment
from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.after_training import AfterTrainingCommand, DeployModel, ListDeployments, TryModel, Undeploy
from bot.jobs.deploy import DeployRefusedByAzure, DeployService, NotAvailable
from bot.jobs.deploy_grammar import DEPLOYMENT_NAME
from bot.jobs.grammar import looks_like_job_id
from bot.services import Services
from bot.views import SlackMessage
from bot.views.after_training_buttons import ACTION_DEPLOY, ACTION_TRY
from bot.views.deploy import (
    ACTION_UNDEPLOY,
    deploy_answer,
    deploy_refused_message,
    deploy_settled_note,
    deployments_message,
    not_available_message,
    try_message,
    try_posted_answer,
    undeploy_confirm_message,
    undeployed_message,
)
from bot.views.outbound import safe_tree
from bot.views.try_form import PROMPT_ACTION, PROMPT_BLOCK, TRY_CALLBACK_ID, try_modal
from handlers.context import Intent
from handlers.errors import ErrorBoundary, PermissionRefused
from handlers.followups import answer_privately
from handlers.middleware import Next, authorize, read_job_button

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services, deploys: DeployService) -> None:
    async def give_deploys(context: AsyncBoltContext, next: Next) -> None:
        context["deploys"] = deploys
        await next()

    app.middleware(give_deploys)

    async def tell_thread(channel: str, ts: str, deployment: Deployment | None, problem: str | None) -> None:
        name = deployment.name if deployment else "?"
        await _post_in_thread(services.slack, channel, ts, deploy_settled_note(name, deployment, problem))

    deploys.on_settled = tell_thread
    app.action(ACTION_DEPLOY, middleware=[read_job_button, authorize])(handle_deploy_button)
    app.action(ACTION_TRY, middleware=[read_job_button, authorize])(handle_try_button)
    app.action(ACTION_UNDEPLOY, middleware=[_read_undeploy, authorize])(handle_undeploy_button)
    app.view(TRY_CALLBACK_ID, middleware=[_read_try_form, authorize])(handle_try_form)


async def run_after_training(
    command: AfterTrainingCommand, actor: Actor, deploys: DeployService, client: AsyncWebClient
) -> SlackMessage:
    """What the person sees for a typed after-training command (thread notes are posted on the way)."""
    match command:
        case DeployModel():
            return await _deploy(command, actor, deploys, client)
        case ListDeployments():
            shown = await deploys.deployments()
            return (
                not_available_message(shown)
                if isinstance(shown, NotAvailable)
                else deployments_message(shown)
            )
        case Undeploy(name=name):
            asked = await deploys.ask_undeploy(name)
            return (
                not_available_message(asked)
                if isinstance(asked, NotAvailable)
                else undeploy_confirm_message(asked)
            )
        case TryModel():
            return await _try(command, actor, deploys, client)


async def _deploy(
    request: DeployModel, actor: Actor, deploys: DeployService, client: AsyncWebClient
) -> SlackMessage:
    outcome = await deploys.deploy(request, actor)
    if isinstance(outcome, DeployRefusedByAzure):
        thread = await deploys.thread_of(outcome.job_id, actor)
        if thread is not None:
            await _post_in_thread(client, *thread, deploy_refused_message(outcome))
    return deploy_answer(outcome)


async def _try(
    request: TryModel, actor: Actor, deploys: DeployService, client: AsyncWebClient
) -> SlackMessage:
    answers = await deploys.try_model(request, actor)
    if isinstance(answers, NotAvailable):
        return not_available_message(answers)
    if answers.in_thread:
        thread = await deploys.thread_of(answers.job_id, actor)
        if thread is not None and await _post_in_thread(client, *thread, try_message(answers)):
            return try_posted_answer(answers)
    return try_message(answers)  # no thread to post in: shown to the person instead


async def _post_in_thread(client: AsyncWebClient, channel: str, ts: str, message: SlackMessage) -> bool:
    try:
        await client.chat_postMessage(channel=channel, thread_ts=ts, text=message.text, blocks=message.blocks)
    except SlackApiError as error:
        log.warning("could not post in the thread %s/%s: %s", channel, ts, error.response.get("error"))
        return False
    return True


# ---- buttons ----------------------------------------------------------------------------------------------


async def handle_deploy_button(
    ack: AsyncAck,
    body: dict[str, Any],
    intent: Intent,
    actor: Actor,
    deploys: DeployService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        answer = await _deploy(DeployModel(intent.job_id or ""), actor, deploys, client)
        await answer_privately(answer, respond=respond, client=client, channel=actor.channel, user=actor.user)


async def handle_try_button(
    ack: AsyncAck,
    body: dict[str, Any],
    intent: Intent,
    actor: Actor,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    """Opens the prompt form at once (the trigger id lasts 3 seconds)."""
    async with boundary.ack_then_work(ack, body, context):
        await client.views_open(
            trigger_id=body["trigger_id"], view=try_modal(intent.job_id or "", actor.channel)
        )


async def _read_try_form(view: dict[str, Any], context: AsyncBoltContext, next: Next) -> None:
    try:
        job_id = json.loads(view.get("private_metadata") or "").get("job_id")
    except (ValueError, AttributeError):
        job_id = None
    if not isinstance(job_id, str) or not looks_like_job_id(job_id):
        raise PermissionRefused(
            "This form doesn't name a job I can try, so I did nothing.", Intent(Action.TRY)
        )
    context["intent"] = Intent(Action.TRY, job_id)
    await next()


async def handle_try_form(
    ack: AsyncAck,
    view: dict[str, Any],
    intent: Intent,
    actor: Actor,
    deploys: DeployService,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    values = (view.get("state") or {}).get("values") or {}
    prompt = str(((values.get(PROMPT_BLOCK) or {}).get(PROMPT_ACTION) or {}).get("value") or "").strip()
    if not prompt:
        await ack(
            response_action="errors", errors=safe_tree({PROMPT_BLOCK: "Type a prompt for both models."})
        )
        return
    async with boundary.ack_then_work(ack, body, context):
        answer = await _try(TryModel(intent.job_id or "", prompt), actor, deploys, client)
        await answer_privately(answer, respond=None, client=client, channel=actor.channel, user=actor.user)


async def _read_undeploy(action: dict[str, Any], context: AsyncBoltContext, next: Next) -> None:
    """Who may delete it is asked by the deploy service, once the deployment's job is known."""
    if not DEPLOYMENT_NAME.match(str(action.get("value") or "")):
        raise PermissionRefused(
            "This button doesn't name a deployment, so I did nothing.", Intent(Action.UNDEPLOY)
        )
    context["intent"] = Intent(Action.UNDEPLOY)
    await next()


async def handle_undeploy_button(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    actor: Actor,
    deploys: DeployService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        name = str(action.get("value") or "")
        outcome = await deploys.undeploy(name, actor)
        answer = undeployed_message(outcome)
        await answer_privately(answer, respond=respond, client=client, channel=actor.channel, user=actor.user)
