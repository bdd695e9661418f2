"""The audit log's writer: one entry per action a person asked for, allowed or refused, with its result."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.finetune.errors import APIStatusError, FineTuneError, InvalidJobSpecError
from bot.jobs.actions import Action
from bot.jobs.actor import Actor
from bot.jobs.intents import DatabaseFailing
from bot.jobs.records import AuditEntry
from bot.ops.redaction import redact
from storage.errors import DatabaseUnavailable
from storage.store import Store

log = logging.getLogger(__name__)

MAX_AUDIT_RESULT = 500


@dataclass
class AuditNote:
    """Filled in by the operation being audited: the job it turned out to be about, and how it went."""

    job_id: str | None
    result: str = "ok"


def failure_text(error: BaseException) -> str:
    """A short, secret-free description of what went wrong."""
    if isinstance(error, APIStatusError):
        return f"{error.code or f'HTTP {error.status_code}'}: {error.message}"
    if isinstance(error, InvalidJobSpecError):
        return "invalid request: " + "; ".join(f"{field} {message}" for field, message in error.problems)
    if isinstance(error, FineTuneError):
        return f"{type(error).__name__}: {error}"
    if isinstance(error, DatabaseFailing):
        return str(error)
    if isinstance(error, SlackApiError):
        return f"slack: {error.response.get('error')}"
    return type(error).__name__


class AuditLog:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def write(
        self,
        action: Action,
        actor: Actor,
        job_id: str | None,
        *,
        allowed: bool,
        result: str,
        reason: str | None = None,
    ) -> None:
        await self._store.record_audit(
            AuditEntry(
                at=self._clock(),
                user=actor.user,
                channel=actor.channel,
                action=action,
                job_id=job_id,
                allowed=allowed,
                reason=redact(reason) if reason is not None else None,
                result=redact(result)[:MAX_AUDIT_RESULT],
            )
        )

    async def refusal(self, action: Action, job_id: str | None, actor: Actor, reason: str | None) -> None:
        await self.write(action, actor, job_id, allowed=False, reason=reason, result="refused")

    @asynccontextmanager
    async def around(
        self, action: Action, actor: Actor, job_id: str | None = None
    ) -> AsyncIterator[AuditNote]:
        """Audit the allowed operation inside the block: with `note.result`, or the error that ended it."""
        note = AuditNote(job_id)
        try:
            yield note
        except Exception as error:
            try:
                await self.write(
                    action, actor, note.job_id, allowed=True, result=f"failed: {failure_text(error)}"
                )
            except DatabaseUnavailable as audit_error:  # the database is failing: the person still hears why
                log.warning("could not audit %s by %s: %s", action, actor.user, audit_error)
            raise
        await self.write(action, actor, note.job_id, allowed=True, result=note.result)
