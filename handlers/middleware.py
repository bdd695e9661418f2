"""Listener middleware: read what a request asks for, then check it against the policy — in one place.

Each listener's chain starts with a reader that sets `context["intent"]` (and, for the slash command, the
parsed command) and ends with `authorize`, the only place permissions are enforced. A refusal is raised
as `PermissionRefused`, which the error boundary answers privately and audits, both after the ack. None of
this waits for the fine-tuning API: only storage is read before the ack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.grammar import action_name, command_job_id, looks_like_job_id, parse_command
from bot.jobs.service import JobService
from bot.views.actions import BUTTON_VERBS
from handlers.context import Intent, intent_of
from handlers.errors import PermissionRefused

Next = Callable[[], Awaitable[None]]


async def parse_slash_command(
    command: dict[str, Any], context: AsyncBoltContext, jobs: JobService, next: Next
) -> None:
    """`/finetune …` text → `context["parsed_command"]`; a `CommandError` goes to the error boundary."""
    parsed = parse_command(str(command.get("text") or ""), command=jobs.command, provider=jobs.provider)
    context["parsed_command"] = parsed
    context["intent"] = Intent(action_name(parsed), command_job_id(parsed))
    await next()


async def read_job_button(
    action: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, jobs: JobService, next: Next
) -> None:
    """A card button: its action id says what, its value carries the job id.

    The value comes from the click's payload, so it is checked like a typed job id before anything (the
    policy, the API) sees it, and it must be the job of the card the button sits on: a forged value could
    otherwise turn one job's card into another's."""
    value = action.get("value")
    verb = BUTTON_VERBS[str(action.get("action_id"))]
    if not isinstance(value, str) or not looks_like_job_id(value):
        raise PermissionRefused(
            "This button doesn't name a job I can act on, so I did nothing.", Intent(verb, None)
        )
    context["intent"] = intent = Intent(verb, value)
    container = body.get("container")
    actor = context.get("actor")
    if isinstance(container, dict) and not container.get("is_ephemeral") and isinstance(actor, Actor):
        ts = container.get("message_ts")
        if isinstance(ts, str) and not await jobs.button_fits_card(value, actor.channel, ts):
            raise PermissionRefused(
                "This button doesn't belong to the card it is on, so I did nothing.", intent
            )
    await next()


async def read_list_page(context: AsyncBoltContext, next: Next) -> None:
    context["intent"] = Intent(Action.LIST)
    await next()


async def read_create_form(context: AsyncBoltContext, next: Next) -> None:
    context["intent"] = Intent(Action.CREATE)
    await next()


async def read_settings_form(context: AsyncBoltContext, next: Next) -> None:
    context["intent"] = Intent(Action.SAVE_SETTINGS)
    await next()


async def read_upload(context: AsyncBoltContext, next: Next) -> None:
    """The upload form and its `Upload & start` button."""
    context["intent"] = Intent(Action.UPLOAD)
    await next()


async def authorize(context: AsyncBoltContext, jobs: JobService, next: Next) -> None:
    """Ask the policy; refuse (audited by the error boundary, after the ack), or let the listener run."""
    intent = intent_of(context)
    actor = context.get("actor")
    if intent is None or not isinstance(actor, Actor):
        raise PermissionRefused("I can't tell who sent this or from which channel, so I won't act on it.")
    decision = await jobs.authorize(intent.action, intent.job_id, actor)
    if not decision.allowed:
        raise PermissionRefused(decision.reason or f"You may not {intent.action} this job.", intent)
    await next()
