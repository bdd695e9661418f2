"""A create cut short by shutdown: what is audited and logged (`bot.views.replies` words the answer).

The API may have started the job (and billed it) before the service stopped: the person must hear
about it, and the audit log must say so, rather than the request vanishing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.jobs.actor import Actor

log = logging.getLogger(__name__)

# After shutdown cancels a create, how much longer the API call already sent (and its tracking) may take.
INTERRUPTED_CREATE_GRACE = 0.5


def check_command(command: str) -> str:
    return f"`{command} list all mine`"


def not_known_result(command: str) -> str:
    return (
        f"interrupted by shutdown before the API answered: may have started: check {check_command(command)}"
    )


def started_without_card_result(status: str) -> str:
    return f"created ({status}); interrupted by shutdown before its card was posted"


def log_interrupted(actor: Actor, job_id: str | None) -> None:
    log.warning(
        "create by user %s in channel %s interrupted by shutdown (%s)",
        actor.user,
        actor.channel,
        f"job {job_id} tracked, card not posted" if job_id else "the job may have started",
    )


def take_back_cancellation() -> None:
    """The current task was cancelled (shutdown) and answers the person instead of ending there."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def outcome_after_cancel(starting: asyncio.Future[Any]) -> Any:
    """The result of `starting` (the API call and tracking) if it ends within the grace, else None (then
    it is cancelled). Takes back the cancellation of the current task: the caller answers instead."""
    take_back_cancellation()
    await asyncio.wait({starting}, timeout=INTERRUPTED_CREATE_GRACE)
    if not starting.done():
        starting.cancel()
        await asyncio.wait({starting})
        return None
    if starting.cancelled():
        return None
    return starting.result()  # raises the API's error, for the audit and the error boundary
