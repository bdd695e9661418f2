"""Buttons: Pause, Resume, Cancel and Refresh on a job card, and "Next page" under a job list.

A card button edits the card it was clicked on in place (`container.message_ts`); on a card shown only to
the person (an ephemeral `status`), the card is replaced through the response_url instead.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actions import Action, control_action
from bot.jobs.actor import Actor
from bot.jobs.grammar import ListJobs
from bot.jobs.lists import ListCursor
from bot.jobs.outcomes import ActionDone, ActionNotSent
from bot.jobs.service import JobService
from bot.services import Services
from bot.views import SlackMessage
from bot.views.actions import ACTION_NEXT_PAGE, BUTTON_ACTIONS, button_action_id
from bot.views.answers import action_card, action_summary, not_sent_answer
from bot.views.lists import job_list_page
from bot.views.replies import click_answer_card_not_edited, stale_list
from handlers.context import Intent
from handlers.errors import ErrorBoundary
from handlers.followups import answer_privately, post_to_response_url
from handlers.middleware import authorize, read_job_button, read_list_page


def register(app: AsyncApp, services: Services) -> None:
    for action in BUTTON_ACTIONS:
        app.action(button_action_id(action), middleware=[read_job_button, authorize])(handle_job_button)
    app.action(ACTION_NEXT_PAGE, middleware=[read_list_page, authorize])(handle_next_page)


async def handle_job_button(
    ack: AsyncAck,
    body: dict[str, Any],
    intent: Intent,
    actor: Actor,
    jobs: JobService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        container = body.get("container") or {}
        on_ephemeral = bool(container.get("is_ephemeral"))
        card_ts = None if on_ephemeral else container.get("message_ts")
        job_id = intent.job_id or ""
        done: ActionDone
        verb = control_action(intent.action)
        if verb is not None:
            outcome = await jobs.act(verb, job_id, actor, card_ts=card_ts, update_card=not on_ephemeral)
            if isinstance(outcome, ActionNotSent):
                answer = not_sent_answer(outcome)
                await answer_privately(
                    answer, respond=respond, client=client, channel=actor.channel, user=actor.user
                )
                return
            done = outcome
        elif intent.action is Action.REFRESH:
            done = await jobs.refresh(job_id, actor, card_ts=card_ts, update_card=not on_ephemeral)
        else:  # only the card buttons are registered here
            return
        card = action_card(done, now=jobs.clock(), prices=jobs.prices)
        if on_ephemeral:
            await _replace(card, respond=respond, client=client, actor=actor)
        elif not done.card_updated:
            answer = click_answer_card_not_edited(action_summary(done), card)
            await answer_privately(
                answer, respond=respond, client=client, channel=actor.channel, user=actor.user
            )


async def handle_next_page(
    ack: AsyncAck,
    action: dict[str, Any],
    actor: Actor,
    jobs: JobService,
    respond: AsyncRespond,
    client: AsyncWebClient,
    body: dict[str, Any],
    context: AsyncBoltContext,
    boundary: ErrorBoundary,
) -> None:
    async with boundary.ack_then_work(ack, body, context):
        cursor = ListCursor.decode(str(action.get("value") or ""))
        if cursor is None:
            await jobs.record_refusal(Action.LIST, None, actor, "a Next page button I did not make")
            answer = stale_list(jobs.command)
            await answer_privately(
                answer, respond=respond, client=client, channel=actor.channel, user=actor.user
            )
        else:
            page = await jobs.list_jobs(ListJobs(scope=cursor.scope, mine=cursor.mine), actor, cursor=cursor)
            await _replace(job_list_page(page), respond=respond, client=client, actor=actor)


async def _replace(
    message: SlackMessage, *, respond: AsyncRespond, client: AsyncWebClient, actor: Actor
) -> None:
    """Replace the private message the button sat on; a new private message if that is not possible."""
    if respond.response_url:
        body = {"text": message.text, "blocks": message.blocks, "replace_original": True}
        if await post_to_response_url(respond.response_url, body, client=client):
            return
    await answer_privately(message, respond=None, client=client, channel=actor.channel, user=actor.user)
