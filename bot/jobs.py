"""The job operations behind every command, button and form: API call, storage, the card, the audit log.

Handlers parse and answer; this module does the work. Each operation returns what the person is shown
privately (a `SlackMessage`), and writes one audit entry with its result — including when the API or
Slack fails, in which case the error is re-raised for the error boundary to explain.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.commands import ListJobs
from bot.finetune.errors import APIStatusError, FineTuneError, InvalidJobSpecError
from bot.finetune.models import FineTuningJob
from bot.finetune.spec import MAX_METADATA_PAIRS, JobSpec
from bot.permissions import RULES, Decision, Policy, Who
from bot.poll_policy import PollPolicy
from bot.services import Services
from bot.slack_failures import UNREACHABLE_ERRORS
from bot.thread_lookup import card_metadata
from bot.views import SlackMessage
from bot.views.card import card_for, render_card
from bot.views.checkpoints import checkpoints_message
from bot.views.events import events_message
from bot.views.format import code, status_words
from bot.views.lists import PAGE_SIZE, api_job_list, tracked_job_list
from bot.views.message import fit
from storage.records import AuditEntry, NewJob, Observation, Origin, Progress, TrackedJob

log = logging.getLogger(__name__)

ControlAction = Literal["pause", "resume", "cancel"]

# Jobs started from Slack carry the creator's Slack user id, so `list all mine` can ask the API for them
# and a job adopted with `watch` after its tracking was lost still knows who started it.
CREATOR_METADATA_KEY = "tuneops_creator"
# After a pause/resume/cancel the job moves on by itself (pausing → paused): look again soon.
ACTION_FOLLOW_UP_SECONDS = 5.0
MAX_AUDIT_RESULT = 500
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9_]{1,30}$")
MAX_CURSOR = 2000
CARD_POST_FAILURES = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError)


def control_action(name: str) -> ControlAction | None:
    match name:
        case "pause" | "resume" | "cancel":
            return name
        case _:
            return None


@dataclass(frozen=True)
class Actor:
    """Who asked, and from which channel."""

    user: str
    channel: str


@dataclass(frozen=True)
class ActionOutcome:
    """A pause/resume/cancel/refresh: the job as the API answered, its card, and what to tell the person."""

    job: FineTuningJob
    card: SlackMessage
    card_updated: bool  # the card message in the channel was edited in place
    summary: str


@dataclass(frozen=True)
class ListCursor:
    """What the "Next page" button of a job list carries."""

    scope: Literal["channel", "active", "all"]
    mine: bool
    page: int
    offset: int = 0
    after: str | None = None

    def encode(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> ListCursor | None:
        try:
            data = json.loads(value)
            cursor = cls(**data)
        except (ValueError, TypeError):
            return None
        valid = (
            cursor.scope in ("channel", "active", "all")
            and isinstance(cursor.mine, bool)
            and isinstance(cursor.page, int)
            and isinstance(cursor.offset, int)
            and cursor.offset >= 0
            and (cursor.after is None or isinstance(cursor.after, str))
        )
        return cursor if valid else None


@dataclass
class _AuditNote:
    job_id: str | None
    result: str = "ok"


def failure_text(error: BaseException) -> str:
    """A short, secret-free description of what went wrong, for the audit log."""
    if isinstance(error, APIStatusError):
        return f"{error.code or f'HTTP {error.status_code}'}: {error.message}"
    if isinstance(error, InvalidJobSpecError):
        return "invalid request: " + "; ".join(f"{field} {message}" for field, message in error.problems)
    if isinstance(error, FineTuneError):
        return f"{type(error).__name__}: {error}"
    if isinstance(error, SlackApiError):
        return f"slack: {error.response.get('error')}"
    return type(error).__name__


class JobService:
    def __init__(self, services: Services, policy: Policy) -> None:
        self._services = services
        self._policy = policy
        self._polls = PollPolicy(interval=services.settings.poll_interval)

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def command(self) -> str:
        return self._services.settings.command

    @property
    def provider(self) -> str:
        return self._services.provider

    def _now(self) -> float:
        return self._services.clock()

    # ---- permissions and audit ------------------------------------------------------------------------

    async def authorize(self, action: str, job_id: str | None, actor: Actor) -> Decision:
        """The policy's decision. Runs before the ack, so it reads only storage, and only when the rule
        for `action` depends on the job (reads, create and watch are open to anyone, anywhere)."""
        rule = RULES.get(action)
        if rule is not None and rule.who is Who.ANYONE and not rule.needs_channel:
            return self._policy.decide(
                action=action, user=actor.user, channel=actor.channel, job=None, channel_watches=False
            )
        store = self._services.store
        job = await store.get_job(job_id) if job_id else None
        watching = job is not None and await store.get_watch(job.job_id, actor.channel) is not None
        decision = self._policy.decide(
            action=action, user=actor.user, channel=actor.channel, job=job, channel_watches=watching
        )
        if job is None and job_id and not decision.allowed:
            # The policy cannot name a job TuneOps does not track; say how to start following it.
            hint = (
                f"TuneOps doesn't follow {code(job_id)} yet: `{self.command} watch {job_id}` adopts it here."
            )
            return Decision.refuse(f"{decision.reason or 'Not allowed.'} {hint}")
        return decision

    async def record_refusal(self, action: str, job_id: str | None, actor: Actor, reason: str | None) -> None:
        await self._audit(action, actor, job_id, allowed=False, reason=reason, result="refused")

    async def _audit(
        self,
        action: str,
        actor: Actor,
        job_id: str | None,
        *,
        allowed: bool,
        result: str,
        reason: str | None = None,
    ) -> None:
        entry = AuditEntry(
            at=self._now(),
            user=actor.user,
            channel=actor.channel,
            action=action,
            job_id=job_id,
            allowed=allowed,
            reason=reason,
            result=result[:MAX_AUDIT_RESULT],
        )
        await self._services.store.record_audit(entry)

    @asynccontextmanager
    async def _audited(
        self, action: str, actor: Actor, job_id: str | None = None
    ) -> AsyncIterator[_AuditNote]:
        """Audit the operation inside the block with `note.result`, or with the error that ended it."""
        note = _AuditNote(job_id)
        try:
            yield note
        except Exception as error:
            await self._audit(
                action, actor, note.job_id, allowed=True, result=f"failed: {failure_text(error)}"
            )
            raise
        await self._audit(action, actor, note.job_id, allowed=True, result=note.result)

    # ---- create, watch, unwatch -----------------------------------------------------------------------

    async def create(self, spec: JobSpec, actor: Actor, *, origin: Origin) -> SlackMessage:
        """Start the job, track it as owned by this channel and post its card there."""
        async with self._audited("create", actor) as note:
            job = await self._services.api.create_job(_with_creator(spec, actor.user))
            note.job_id = job.id
            tracked = await self._track(job, owner=actor.channel, creator=actor.user, origin=origin)
            card = card_for(tracked, self._now())
            problem = await self._post_card(tracked, actor.channel, card)
            note.result = f"created ({job.status})" + (f"; card not posted: {problem}" if problem else "")
            if problem:
                return self._card_not_posted(job.id, problem, card, started=True)
            return sentence(
                f"✅ Started {code(job.id)} ({status_words(job.status)}). Its card is in this channel and "
                "every status change will be posted in its thread."
            )

    async def watch(self, job_id: str, actor: Actor) -> SlackMessage:
        """Follow a job in this channel: track it (this channel then owns it) or add a watch; post its card."""
        async with self._audited("watch", actor, job_id) as note:
            job = await self._services.api.retrieve_job(job_id)
            store = self._services.store
            tracked = await store.get_job(job.id)
            if tracked is None:
                tracked = await self._track(
                    job, owner=actor.channel, creator=_creator_from_metadata(job), origin=Origin.WATCH
                )
                card = card_for(tracked, self._now())
                problem = await self._post_card(tracked, actor.channel, card)
                note.result = "now tracked" + (f"; card not posted: {problem}" if problem else "")
            else:
                tracked = await self._observe(job, tracked) or tracked
                card = card_for(tracked, self._now())
                existing = await store.get_watch(job.id, actor.channel)
                card_ts = existing.card_ts if existing is not None else None
                if card_ts is not None and await self._update_card(tracked, actor.channel, card, ts=card_ts):
                    note.result = "already watching; card refreshed"
                    return sentence(
                        f"This channel already follows {code(job.id)}; I brought its card up to date."
                    )
                problem = await self._follow(tracked, actor, card)
                note.result = ("card re-posted" if existing else "watching") + (
                    f"; card not posted: {problem}" if problem else ""
                )
            if problem:
                return self._card_not_posted(job.id, problem, card, started=False)
            return sentence(
                f"👀 This channel now follows {code(job.id)}: its card is here and every status change will "
                "be posted in its thread."
            )

    async def unwatch(self, job_id: str, actor: Actor) -> SlackMessage:
        async with self._audited("unwatch", actor, job_id) as note:
            removed = await self._services.store.remove_watch(job_id, actor.channel)
            if not removed:
                note.result = "was not watching"
                return sentence(f"This channel wasn't following {code(job_id)}; nothing changed.")
            note.result = "stopped watching"
            return sentence(
                f"🔕 This channel no longer follows {code(job_id)}: no more updates about it here. "
                f"`{self.command} watch {job_id}` brings them back."
            )

    # ---- reading ----------------------------------------------------------------------------------------

    async def status(self, job_id: str, actor: Actor) -> SlackMessage:
        """The job's card as the API sees it now (and stored, when tracked)."""
        async with self._audited("status", actor, job_id) as note:
            job = await self._services.api.retrieve_job(job_id)
            tracked = await self._observe(job)
            note.result = job.status
            return self._card(job, tracked)

    async def events(self, job_id: str, limit: int, actor: Actor) -> SlackMessage:
        async with self._audited("events", actor, job_id) as note:
            page = await self._services.api.list_events(job_id, limit=limit)
            note.result = f"{len(page.data)} events"
            return events_message(job_id, page.data)

    async def checkpoints(self, job_id: str, actor: Actor) -> SlackMessage:
        async with self._audited("checkpoints", actor, job_id) as note:
            page = await self._services.api.list_checkpoints(job_id, limit=10)
            note.result = f"{len(page.data)} checkpoints"
            return checkpoints_message(job_id, page.data)

    async def list_jobs(
        self, request: ListJobs, actor: Actor, *, cursor: ListCursor | None = None
    ) -> SlackMessage:
        """This channel's jobs from storage (newest first), or with `all` the account's from the API."""
        cursor = cursor or ListCursor(scope=request.scope, mine=request.mine, page=1)
        title = _list_title(cursor)
        if cursor.scope == "all":
            metadata = {CREATOR_METADATA_KEY: actor.user} if cursor.mine else None
            page = await self._services.api.list_jobs(after=cursor.after, limit=PAGE_SIZE, metadata=metadata)
            creators: dict[str, str | None] = {}
            for job in page.data:
                tracked = await self._services.store.get_job(job.id)
                creators[job.id] = tracked.creator if tracked else _creator_from_metadata(job)
            next_cursor = (
                dataclasses.replace(cursor, page=cursor.page + 1, after=page.last_id)
                if page.has_more and page.last_id
                else None
            )
            return api_job_list(
                page.data,
                title=title,
                page=cursor.page,
                next_value=_next_value(next_cursor),
                creators=creators,
                empty_text="No jobs you started through TuneOps."
                if cursor.mine
                else "The account has no jobs.",
            )
        jobs = await self._services.store.channel_jobs(
            actor.channel,
            active_only=cursor.scope == "active",
            creator=actor.user if cursor.mine else None,
            limit=PAGE_SIZE + 1,
            offset=cursor.offset,
        )
        next_cursor = (
            dataclasses.replace(cursor, page=cursor.page + 1, offset=cursor.offset + PAGE_SIZE)
            if len(jobs) > PAGE_SIZE
            else None
        )
        kwargs: dict[str, Any] = {}
        if cursor.scope != "channel" or cursor.mine:
            kwargs["empty_text"] = "No jobs match here."
        return tracked_job_list(
            jobs[:PAGE_SIZE],
            title=title,
            page=cursor.page,
            next_value=_next_value(next_cursor),
            **kwargs,
        )

    # ---- pause, resume, cancel, refresh -------------------------------------------------------------

    async def act(
        self,
        action: ControlAction,
        job_id: str,
        actor: Actor,
        *,
        card_ts: str | None = None,
        update_card: bool = True,
    ) -> ActionOutcome:
        """Ask the API to pause/resume/cancel, record its answer (the notifier tells the thread who did it)
        and redraw the card in place: the one clicked (`card_ts`) or this channel's."""
        calls: dict[ControlAction, Callable[[str], Awaitable[FineTuningJob]]] = {
            "pause": self._services.api.pause_job,
            "resume": self._services.api.resume_job,
            "cancel": self._services.api.cancel_job,
        }
        async with self._audited(action, actor, job_id) as note:
            before = await self._services.store.get_job(job_id)
            job = await calls[action](job_id)
            now = self._now()
            tracked = await self._observe(
                job,
                before,
                details={"actor": actor.user, "action": action},
                next_poll_at=now + min(ACTION_FOLLOW_UP_SECONDS, self._polls.interval),
            )
            card = self._card(job, tracked)
            updated = update_card and await self._update_card(tracked, actor.channel, card, ts=card_ts)
            previous = before.status if before else "untracked"
            note.result = f"{previous} → {job.status}"
            verb = {"pause": "Pause", "resume": "Resume", "cancel": "Cancel"}[action]
            summary = f"{verb} requested for {code(job.id)}: it is now {status_words(job.status).lower()}."
            return ActionOutcome(job=job, card=card, card_updated=updated, summary=summary)

    async def refresh(
        self, job_id: str, actor: Actor, *, card_ts: str | None = None, update_card: bool = True
    ) -> ActionOutcome:
        async with self._audited("refresh", actor, job_id) as note:
            job = await self._services.api.retrieve_job(job_id)
            tracked = await self._observe(job)
            card = self._card(job, tracked)
            updated = update_card and await self._update_card(tracked, actor.channel, card, ts=card_ts)
            note.result = job.status
            summary = f"{code(job.id)} is {status_words(job.status).lower()}."
            return ActionOutcome(job=job, card=card, card_updated=updated, summary=summary)

    # ---- helpers --------------------------------------------------------------------------------------

    async def _observe(
        self,
        job: FineTuningJob,
        tracked: TrackedJob | None = None,
        *,
        details: dict[str, object] | None = None,
        next_poll_at: float | None = None,
    ) -> TrackedJob | None:
        """Record what the API just said about a tracked job; wake the notifier on a status change."""
        store = self._services.store
        tracked = tracked or await store.get_job(job.id)
        if tracked is None:
            return None
        now = self._now()
        if next_poll_at is None:
            next_poll_at = min(tracked.next_poll_at, self._polls.next_poll_at(job.status, now))
        change = await store.record_observation(
            job.id,
            Observation(
                status=job.status, progress=Progress(), snapshot=_snapshot(job), details=details or {}
            ),
            now=now,
            next_poll_at=next_poll_at,
        )
        if change is not None:
            self._services.outbox_ready.set()
        return await store.get_job(job.id)

    def _card(self, job: FineTuningJob, tracked: TrackedJob | None) -> SlackMessage:
        now = self._now()
        if tracked is not None:
            return card_for(tracked, now)
        return render_card(job, Progress(), creator=_creator_from_metadata(job), now=now)

    async def _track(
        self, job: FineTuningJob, *, owner: str, creator: str | None, origin: Origin
    ) -> TrackedJob:
        """Track a job the API just described. Its first poll waits its normal turn: the card about to be
        posted shows what the API just said, and a status change recorded before the card is remembered
        would make the notifier post a second card."""
        store = self._services.store
        now = self._now()
        tracked, created = await store.track_job(
            NewJob(
                job_id=job.id,
                provider=self.provider,
                owner_channel=owner,
                creator=creator,
                origin=origin,
                status=job.status,
                model=job.model,
                suffix=job.suffix,
                snapshot=_snapshot(job),
            ),
            now=now,
        )
        if created:
            await store.schedule_poll(job.id, next_poll_at=self._polls.next_poll_at(job.status, now))
        return tracked

    async def _follow(self, tracked: TrackedJob, actor: Actor, card: SlackMessage) -> str | None:
        """Add this channel to a tracked job's watchers with its card; the Slack error if not posted.

        The card goes out before the watch exists, so the notifier cannot post one of its own meanwhile."""
        store = self._services.store
        ts, problem = await self._send_card(tracked.job_id, actor.channel, card)
        await store.add_watch(tracked.job_id, actor.channel, user=actor.user, now=self._now())
        await self._remember_card(tracked, actor.channel, ts, problem)
        return problem

    async def _post_card(self, tracked: TrackedJob, channel: str, card: SlackMessage) -> str | None:
        """Post the card of a job `channel` follows and remember it; the Slack error when not possible."""
        ts, problem = await self._send_card(tracked.job_id, channel, card)
        await self._remember_card(tracked, channel, ts, problem)
        return problem

    async def _send_card(
        self, job_id: str, channel: str, card: SlackMessage
    ) -> tuple[str | None, str | None]:
        """(ts, None) when posted; (None, Slack's error) when not."""
        try:
            answer = await self._services.slack.chat_postMessage(
                channel=channel, metadata=card_metadata(job_id), **card.as_kwargs()
            )
        except CARD_POST_FAILURES as error:
            reason = (
                str(error.response.get("error") or "unknown")
                if isinstance(error, SlackApiError)
                else "unreachable"
            )
            log.warning("could not post the card of %s in %s: %s", job_id, channel, reason)
            return None, reason
        return str(answer["ts"]), None

    async def _remember_card(
        self, tracked: TrackedJob, channel: str, ts: str | None, problem: str | None
    ) -> None:
        store = self._services.store
        if ts is not None:
            await store.set_card(tracked.job_id, channel, ts=ts, version=tracked.version, now=self._now())
        elif problem in UNREACHABLE_ERRORS:
            await store.mark_channel_unreachable(channel, reason=str(problem), now=self._now())

    async def _update_card(
        self, tracked: TrackedJob | None, channel: str, card: SlackMessage, *, ts: str | None
    ) -> bool:
        """Edit the card message `ts` (default: this channel's card) in place; False if there is none."""
        if tracked is None and ts is None:
            return False
        store = self._services.store
        if ts is None and tracked is not None:
            watch = await store.get_watch(tracked.job_id, channel)
            ts = watch.card_ts if watch else None
        if ts is None:
            return False
        try:
            await self._services.slack.chat_update(channel=channel, ts=ts, **card.as_kwargs())
        except CARD_POST_FAILURES as error:
            log.warning("could not update the card %s in %s: %s", ts, channel, failure_text(error))
            return False
        if tracked is not None:
            await store.set_card(tracked.job_id, channel, ts=ts, version=tracked.version, now=self._now())
        return True

    def _card_not_posted(
        self, job_id: str, problem: str, card: SlackMessage, *, started: bool
    ) -> SlackMessage:
        """Explain why the card is not in the channel and how to fix it, then show the card here."""
        first = f"Started {code(job_id)}, but I" if started else "I"
        if problem in UNREACHABLE_ERRORS:
            text = (
                f"⚠️ {first} can't post in this channel (Slack says `{problem}`). Invite me with "
                f"`/invite @TuneOps`, then run `{self.command} watch {job_id}` here to get its card and updates. "
                "Its card for now:"
            )
        else:
            text = (
                f"⚠️ {first} couldn't post the card in this channel (Slack says `{problem}`). "
                f"`{self.command} watch {job_id}` tries again. Its card for now:"
            )
        intro = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        return fit(text, [intro, *card.blocks])


def sentence(text: str) -> SlackMessage:
    """One mrkdwn section saying `text`."""
    return fit(text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def _snapshot(job: FineTuningJob) -> dict[str, object]:
    snapshot: dict[str, object] = job.model_dump(mode="json")
    return snapshot


def _with_creator(spec: JobSpec, user: str) -> JobSpec:
    """The spec with the creator's Slack id in its metadata (replacing one typed in), when there is room."""
    metadata = {key: value for key, value in spec.metadata.items() if key != CREATOR_METADATA_KEY}
    if len(metadata) >= MAX_METADATA_PAIRS:
        return dataclasses.replace(spec, metadata=metadata)
    return dataclasses.replace(spec, metadata={**metadata, CREATOR_METADATA_KEY: user})


def _creator_from_metadata(job: FineTuningJob) -> str | None:
    creator = (job.metadata or {}).get(CREATOR_METADATA_KEY)
    return creator if creator and SLACK_USER_ID.match(creator) else None


def _list_title(cursor: ListCursor) -> str:
    title = {
        "channel": "Jobs in this channel",
        "active": "Active jobs in this channel",
        "all": "All fine-tuning jobs of the account",
    }[cursor.scope]
    return title + (" that you started" if cursor.mine else "")


def _next_value(cursor: ListCursor | None) -> str | None:
    if cursor is None:
        return None
    value = cursor.encode()
    return value if len(value) <= MAX_CURSOR else None
