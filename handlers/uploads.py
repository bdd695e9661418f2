"""Training files from Slack: a `.jsonl` shared in a channel gets a pre-flight report in its thread; the
`/finetune upload` form checks the attached file and offers `Upload & start`, which uploads it to the
provider's Files API and opens the create form prefilled with the new file id."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.errors import FineTuneError
from bot.jobs.actor import Actor
from bot.jobs.service import JobService
from bot.preflight.model_facts import DEFAULT_MODEL
from bot.preflight.slack_files import FileUnavailable, SlackFile, check_file, download, file_info
from bot.services import Services
from bot.views.create_form import create_modal
from bot.views.message import SlackMessage
from bot.views.outbound import safe_tree
from bot.views.preflight import (
    ACTION_UPLOAD_START,
    UploadPlan,
    file_unavailable_message,
    preflight_message,
    upload_failed_modal,
    uploading_modal,
)
from bot.views.upload_form import UPLOAD_CALLBACK_ID, parse_upload_form
from handlers.errors import ErrorBoundary
from handlers.followups import answer_privately
from handlers.middleware import authorize, read_upload

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def file_shared(event: dict[str, Any], client: AsyncWebClient) -> None:
        await report_shared_files(services, client, event)

    async def upload_form(
        ack: AsyncAck,
        view: dict[str, Any],
        actor: Actor,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        boundary: ErrorBoundary,
    ) -> None:
        await handle_upload_form(services, ack, view, actor, body, client, context, boundary)

    async def upload_start(
        ack: AsyncAck,
        body: dict[str, Any],
        actor: Actor,
        jobs: JobService,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        boundary: ErrorBoundary,
    ) -> None:
        await handle_upload_start(services, ack, body, actor, jobs, client, context, boundary)

    async def other_message() -> None:
        """Every other message in the bot's channels: nothing to do, but answered 200. Unanswered, Bolt
        says 404, Slack retries it, and an app failing most deliveries gets its events turned off."""

    app.event({"type": "message", "subtype": "file_share"})(file_shared)
    app.event("message")(other_message)
    app.view(UPLOAD_CALLBACK_ID, middleware=[read_upload, authorize])(upload_form)
    app.action(ACTION_UPLOAD_START, middleware=[read_upload, authorize])(upload_start)


async def report_shared_files(services: Services, client: AsyncWebClient, event: dict[str, Any]) -> None:
    channel, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return
    for raw in event.get("files") or []:
        shared = SlackFile.from_object(raw) if isinstance(raw, dict) else None
        if shared is None or not shared.is_jsonl:
            continue
        try:
            if shared.url_private is None:  # Slack may send only the id: ask for the rest
                shared = await file_info(client, shared.id)
            report, content = await check_file(
                services.settings, shared, model=DEFAULT_MODEL, epochs=None, method=None
            )
            content.close()
            message = preflight_message(report)
        except FileUnavailable as exc:
            message = file_unavailable_message(shared.name, str(exc))
        try:
            await client.chat_postMessage(channel=channel, thread_ts=ts, **message.as_kwargs())
        except SlackApiError as exc:
            log.warning("pre-flight report for %s not posted: %s", shared.id, exc.response.get("error"))


async def handle_upload_form(
    services: Services,
    ack: AsyncAck,
    view: dict[str, Any],
    actor: Actor,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    request, errors = parse_upload_form((view.get("state") or {}).get("values") or {})
    if request is None:
        await ack(response_action="errors", errors=safe_tree(errors))
        return
    async with boundary.ack_then_work(ack, body, context):
        training = SlackFile.from_object(request.training_file)
        if training is None:
            await _tell(client, actor, file_unavailable_message("the file", "Slack sent the form without it"))
            return
        validation = SlackFile.from_object(request.validation_file) if request.validation_file else None
        try:
            if training.url_private is None:
                training = await file_info(client, training.id)
            report, content = await check_file(
                services.settings, training, model=request.model, epochs=request.epochs, method=request.method
            )
            content.close()
        except FileUnavailable as exc:
            await _tell(client, actor, file_unavailable_message(training.name, str(exc)))
            return
        plan = UploadPlan(
            training_file=training.id,
            model=request.model,
            method=report.method,
            epochs=request.epochs,
            validation_file=validation.id if validation else None,
        )
        await _tell(client, actor, preflight_message(report, plan=plan))


async def handle_upload_start(
    services: Services,
    ack: AsyncAck,
    body: dict[str, Any],
    actor: Actor,
    jobs: JobService,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        actions = body.get("actions") or [{}]
        plan = UploadPlan.from_value(str(actions[0].get("value") or ""))
        if plan is None:
            await _tell(
                client,
                actor,
                file_unavailable_message("the file", "the button no longer says which file it was"),
            )
            return
        # The trigger id lasts 3 s and the upload may take longer: show progress now, the form when done.
        opened = await client.views_open(trigger_id=body["trigger_id"], view=safe_tree(uploading_modal()))
        view_id = (opened.get("view") or {}).get("id")
        try:
            uploaded = {
                key: await _upload(services, client, file_id)
                for key, file_id in (
                    ("training_file", plan.training_file),
                    ("validation_file", plan.validation_file),
                )
                if file_id
            }
        except (FileUnavailable, FineTuneError) as exc:
            await client.views_update(view_id=view_id, view=safe_tree(upload_failed_modal(str(exc))))
            return
        initial = {**uploaded, "model": plan.model, "method": plan.method}
        if plan.epochs is not None:
            initial["epochs"] = str(plan.epochs)
        form = create_modal(channel_id=actor.channel, command=jobs.command, initial=initial)
        await client.views_update(view_id=view_id, view=form)


async def _upload(services: Services, client: AsyncWebClient, file_id: str) -> str:
    shared = await file_info(client, file_id)
    content = await download(services.settings, shared)
    try:
        uploaded = await services.api.upload_file(shared.name, content.read(), purpose="fine-tune")
    finally:
        content.close()
    return uploaded.id


async def _tell(client: AsyncWebClient, actor: Actor, message: SlackMessage) -> None:
    """A private answer to the person (a form or a button has no response URL)."""
    await answer_privately(message, respond=None, client=client, channel=actor.channel, user=actor.user)
