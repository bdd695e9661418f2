"""Quiet hours: while a channel's quiet period lasts, its routine notes are held (not posted one by one)
and folded into one summary at the end of the period; failures go out at once.

The notifier asks `hold_if_quiet` before delivering each note; that is the whole of its part.
"""

from __future__ import annotations

from bot.jobs.records import OutboxItem
from bot.services import Services

URGENT_STATUSES = frozenset({"failed"})


def is_routine(item: OutboxItem) -> bool:
    """Every note but a failure (a stuck job's warning waits too: it is not the job failing)."""
    if item.kind == "status":
        return str(item.payload.get("current") or "") not in URGENT_STATUSES
    return True


async def hold_if_quiet(services: Services, item: OutboxItem) -> bool:
    """Hold the note when its channel is in quiet hours and it is routine; True when held."""
    if not is_routine(item):
        return False
    schedule = await services.store.channel_schedule(item.channel)
    if schedule is None or schedule.quiet is None:
        return False
    now = services.clock()
    period = schedule.quiet.period_at(now)
    if period is None:
        return False
    return await services.store.hold_note(
        item.id,
        channel=item.channel,
        job_id=item.job_id,
        transition=item.transition,
        payload=item.payload,
        until=period[1],
        now=now,
    )
