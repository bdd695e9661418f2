"""Setting a channel's digest and quiet hours: stored, audited, and answered with what now holds."""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.audit import AuditLog
from bot.schedule.commands import SetDigest, SetQuiet
from bot.schedule.records import ChannelSchedule
from bot.schedule.times import DailyTime, QuietWindow
from bot.services import Services


@dataclass(frozen=True)
class ScheduleOutcome:
    """What the channel's schedule is after the command; `changed` False for `digest` / `quiet` alone."""

    channel: str
    digest: DailyTime | None
    next_digest_at: float | None
    quiet: QuietWindow | None
    changed: Action | None


class ChannelSchedules:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._store = services.store
        self._audit = AuditLog(services.store, services.clock)

    async def apply(self, command: SetDigest | SetQuiet, actor: Actor) -> ScheduleOutcome:
        if command.show:
            return self._outcome(actor.channel, await self._store.channel_schedule(actor.channel), None)
        now = self._services.clock()
        if isinstance(command, SetDigest):
            async with self._audit.around(Action.DIGEST, actor) as note:
                await self._store.set_digest(actor.channel, command.digest, user=actor.user, now=now)
                note.result = f"digest {command.digest.describe() if command.digest else 'off'}"
            changed = Action.DIGEST
        else:
            async with self._audit.around(Action.QUIET, actor) as note:
                await self._store.set_quiet(actor.channel, command.quiet, user=actor.user, now=now)
                note.result = f"quiet {command.quiet.describe() if command.quiet else 'off'}"
            changed = Action.QUIET
        return self._outcome(actor.channel, await self._store.channel_schedule(actor.channel), changed)

    def _outcome(
        self, channel: str, schedule: ChannelSchedule | None, changed: Action | None
    ) -> ScheduleOutcome:
        digest = schedule.digest if schedule else None
        return ScheduleOutcome(
            channel=channel,
            digest=digest,
            next_digest_at=digest.next_after(self._services.clock()) if digest else None,
            quiet=schedule.quiet if schedule else None,
            changed=changed,
        )
