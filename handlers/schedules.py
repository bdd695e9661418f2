"""`/finetune digest …` and `/finetune quiet …`: the channel's schedule service, given to the command's
listener (as `schedules`), and the answer to those two commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.context.async_context import AsyncBoltContext

from bot.jobs.actor import Actor
from bot.schedule.commands import SetDigest, SetQuiet
from bot.schedule.service import ChannelSchedules
from bot.services import Services
from bot.views import SlackMessage
from bot.views.schedule import schedule_answer

Middleware = Callable[[AsyncBoltContext, Callable[[], Awaitable[None]]], Awaitable[None]]


def attach_schedules(services: Services) -> Middleware:
    schedules = ChannelSchedules(services)

    async def attach(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        context["schedules"] = schedules
        await next()

    return attach


async def schedule_command(
    command: SetDigest | SetQuiet, actor: Actor, schedules: ChannelSchedules, *, slash: str
) -> SlackMessage:
    return schedule_answer(await schedules.apply(command, actor), command=slash)
