"""The channel's own operations: its subscriptions, its notification settings, its audit log.

Each one is audited like the job operations (`bot.jobs.service`), and returns plain data for the views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.audit import AuditLog
from bot.jobs.channel_settings import ChannelSettings
from bot.jobs.records import AuditEntry
from bot.jobs.subscribe_args import AuditRequest
from bot.jobs.subscriptions import JobFilter, Subscription
from bot.services import Services


@dataclass(frozen=True)
class Subscribed:
    subscription: Subscription
    number: int  # its place in `subscriptions`


@dataclass(frozen=True)
class SubscriptionsShown:
    subscriptions: list[Subscription]
    settings: ChannelSettings


@dataclass(frozen=True)
class Unsubscribed:
    removed: list[Subscription]
    asked: int | None  # the number asked for; None: all
    count_before: int


@dataclass(frozen=True)
class AuditShown:
    entries: list[AuditEntry]
    request: AuditRequest


class ChannelOperations:
    def __init__(self, services: Services, audit: AuditLog) -> None:
        self._services = services
        self._audit = audit

    async def subscribe(self, job_filter: JobFilter, actor: Actor) -> Subscribed:
        async with self._audit.around(Action.SUBSCRIBE, actor) as note:
            store = self._services.store
            added = await store.add_subscription(
                actor.channel, user=actor.user, job_filter=job_filter, now=self._services.clock()
            )
            number = len(await store.channel_subscriptions(actor.channel))
            note.result = f"subscribed #{number}: {job_filter.describe()}"
            return Subscribed(added, number)

    async def subscriptions(self, actor: Actor) -> SubscriptionsShown:
        async with self._audit.around(Action.SUBSCRIPTIONS, actor) as note:
            store = self._services.store
            found = await store.channel_subscriptions(actor.channel)
            note.result = f"{len(found)} subscriptions"
            return SubscriptionsShown(found, await store.channel_settings(actor.channel))

    async def unsubscribe(self, number: int | None, actor: Actor) -> Unsubscribed:
        async with self._audit.around(Action.UNSUBSCRIBE, actor) as note:
            store = self._services.store
            current = await store.channel_subscriptions(actor.channel)
            chosen = _chosen(current, number)
            await store.remove_subscriptions(actor.channel, [s.id for s in chosen])
            note.result = (
                "removed " + ", ".join(s.filter.describe() for s in chosen) if chosen else "nothing removed"
            )
            return Unsubscribed(chosen, number, len(current))

    async def open_settings(
        self, actor: Actor, open_form: Callable[[ChannelSettings], Awaitable[object]]
    ) -> None:
        """Open the settings form, filled in with the channel's settings."""
        async with self._audit.around(Action.SETTINGS, actor) as note:
            await open_form(await self._services.store.channel_settings(actor.channel))
            note.result = "form opened"

    async def save_settings(self, settings: ChannelSettings, actor: Actor) -> ChannelSettings:
        async with self._audit.around(Action.SAVE_SETTINGS, actor) as note:
            await self._services.store.save_channel_settings(
                actor.channel, settings, user=actor.user, now=self._services.clock()
            )
            note.result = settings.describe()
            return settings

    async def audit(self, request: AuditRequest, actor: Actor) -> AuditShown:
        """The last entries of the channel, of one job, or (admins) of every channel; newest first. The
        request itself is audited after the read, so it does not show itself."""
        store = self._services.store
        action = Action.AUDIT_ALL if request.everywhere else Action.AUDIT
        async with self._audit.around(action, actor, request.job_id) as note:
            if request.job_id is not None:
                entries = await store.audit_for_job(request.job_id, limit=request.limit)
            else:
                channel = None if request.everywhere else actor.channel
                entries = await store.audit_for_channel(channel, limit=request.limit)
            note.result = f"{len(entries)} entries"
            return AuditShown(entries, request)


def _chosen(current: list[Subscription], number: int | None) -> list[Subscription]:
    """The subscriptions `unsubscribe <number|all>` names (none when the number is past the last)."""
    if number is None:
        return current
    return [current[number - 1]] if number <= len(current) else []
