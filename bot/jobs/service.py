"""The job operations behind every command, button and form: API call, storage, the card, the audit log.

Handlers parse and answer; this module does the work. Each operation returns what it did as plain data
(`bot.jobs.outcomes`), and writes one audit entry with its result — including when the API or Slack
fails, in which case the error is re-raised for the error boundary to explain.

Every API answer is recorded with the time its request was sent (`read_at`, taken just before the call):
the watcher reads the same jobs on its own schedule, and storage keeps whichever read was sent last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.finetune.errors import APIStatusError, FineTuneError
from bot.finetune.models import TERMINAL_STATUSES, FineTuningJob, JobEvent
from bot.finetune.spec import JobSpec
from bot.jobs.actions import CONTROL_ACTIONS, Action, ControlAction
from bot.jobs.actor import Actor
from bot.jobs.audit import AuditLog, AuditNote
from bot.jobs.channel_ops import ChannelOperations
from bot.jobs.checks import RequestChecks
from bot.jobs.create_precheck import problems_before_create
from bot.jobs.creator import creator_of, with_creator
from bot.jobs.grammar import ListJobs
from bot.jobs.intents import new_intent_id, no_record, not_recorded, with_intent
from bot.jobs.interrupted import (
    log_interrupted,
    not_known_result,
    outcome_after_cancel,
    started_without_card_result,
    take_back_cancellation,
)
from bot.jobs.keyed_locks import KeyedLocks
from bot.jobs.lists import JobListPage, JobLists, ListCursor
from bot.jobs.outcomes import (
    ActionDone,
    ActionNotSent,
    CardNotPosted,
    CheckpointsShown,
    ControlOutcome,
    CreateOutcome,
    EventsShown,
    Followed,
    MaybeStarted,
    Started,
    StartedWithoutCard,
    StatusShown,
    Unfollowed,
)
from bot.jobs.permissions import Policy
from bot.jobs.records import CreateIntent, Observation, Origin, Progress, TrackedJob
from bot.jobs.tracking import track_unwatched
from bot.notify.cards import ChannelCards
from bot.notify.people import SlackPeople
from bot.notify.slack_failures import UNREACHABLE_ERRORS
from bot.services import Services
from bot.views.card import card_for, frozen_card_for, job_card
from bot.watch.poll_policy import PollPolicy
from bot.watch.progress import progress_from
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

# After a pause/resume/cancel the job moves on by itself (pausing → paused): look again soon.
ACTION_FOLLOW_UP_SECONDS = 5.0
# How long a status, Refresh or button answer waits for the job's new events to go with it.
EVENTS_WITH_READ_SECONDS = 3.0
MAX_CHECKPOINTS = 10


class JobService(RequestChecks):
    def __init__(self, services: Services, policy: Policy) -> None:
        self._services = services
        self._policy = policy
        self._polls = PollPolicy(interval=services.settings.poll_interval)
        self._audit = AuditLog(services.store, services.clock)
        self._cards = ChannelCards(services)
        self._lists = JobLists(services)
        # What the API says about a job is recorded, and its card redrawn, one operation at a time: a
        # double-click, or a Refresh racing a Cancel, must not record an older answer over a newer one.
        self._per_job = KeyedLocks()
        self._under_way: set[str] = set()  # "action:job_id" of pauses, resumes and cancels in flight
        # (user, channel) -> when a create form there was last held back (see `form_held_back`).
        self._held_back: dict[tuple[str, str], float] = {}
        self._intents: dict[str, str] = {}  # job id -> its create intent, until the create is done
        self._channels = ChannelOperations(services, self._audit)
        self._people = SlackPeople(services)  # a watched job's `owner=<email>`

    @property
    def channels(self) -> ChannelOperations:
        """Subscriptions, settings and the audit log of a channel."""
        return self._channels

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def command(self) -> str:
        return self._services.settings.command

    @property
    def provider(self) -> str:
        return self._services.provider

    @property
    def clock(self) -> Callable[[], float]:
        """The service's clock: answers drawn from outcomes say "5 minutes ago" by it."""
        return self._services.clock

    # ---- create, watch, unwatch -----------------------------------------------------------------------

    async def create(self, spec: JobSpec, actor: Actor, *, origin: Origin) -> CreateOutcome:
        """Start the job, track it as owned by this channel and post its card there.

        The outcome of a form names the channel: a form has no response_url, and when the bot cannot post
        in the channel the answer goes to the person as a direct message.

        The API call and the tracking run in a task of their own, awaited under a shield: a shutdown that
        cancels this request lets them finish (briefly, `INTERRUPTED_CREATE_GRACE`), so a job the API
        started is tracked; either way the person is answered and the audit log says what happened."""
        named = actor.channel if origin is Origin.FORM else None
        async with self._audit.around(Action.CREATE, actor) as note:
            starting = asyncio.ensure_future(self._start(spec, actor, origin))
            try:
                tracked = await asyncio.shield(starting)
            except asyncio.CancelledError:
                tracked = await outcome_after_cancel(starting)
                if tracked is None:
                    log_interrupted(actor, None)
                    note.result = not_known_result(self.command)
                    return MaybeStarted(channel=named)
                return await self._interrupted_before_card(tracked, actor, note, named)
            note.job_id = tracked.job_id
            card = card_for(tracked, self._now())
            try:
                problem = await self._cards.post_then_watch(tracked, actor, card)
            except asyncio.CancelledError:
                take_back_cancellation()
                return await self._interrupted_before_card(tracked, actor, note, named)
            note.result = f"created ({tracked.status})" + (f"; card not posted: {problem}" if problem else "")
            await self._close_intent(tracked.job_id, note.result)
            return Started(tracked, channel=named, card_not_posted=_not_posted(problem))

    async def _start(self, spec: JobSpec, actor: Actor, origin: Origin) -> TrackedJob:
        """Record the intent (no record, no call), create the job tagged with it, track it."""
        store = self._services.store
        intent = CreateIntent(new_intent_id(), actor.user, actor.channel, str(origin), self._now())
        try:
            await store.add_intent(intent)
        except DatabaseUnavailable as error:
            raise no_record(error) from error
        under_way = self._services.creates_under_way
        under_way.add(intent.intent_id)
        try:
            return await self._start_recorded(spec, actor, origin, intent)
        except BaseException:
            under_way.discard(intent.intent_id)  # cut short: the watcher's adoption finishes it
            raise

    async def _start_recorded(
        self, spec: JobSpec, actor: Actor, origin: Origin, intent: CreateIntent
    ) -> TrackedJob:
        read_at = self._now()
        tagged = with_creator(with_intent(spec, intent.intent_id), actor.user)
        try:
            job = await self._services.api.create_job(tagged)
        except APIStatusError as error:
            if error.status_code < 500 and error.status_code != 408:  # refused: no job came of it
                await self._close_quietly(intent.intent_id, None, "refused by the API")
            raise
        try:
            tracked = await self._track(job, read_at, owner=actor.channel, creator=actor.user, origin=origin)
        except DatabaseUnavailable as error:
            raise not_recorded(f"The job {job.id} was created", error) from error
        self._intents[tracked.job_id] = intent.intent_id
        return tracked

    async def _close_intent(self, job_id: str, result: str) -> None:
        intent_id = self._intents.pop(job_id, None)
        if intent_id is not None:
            await self._close_quietly(intent_id, job_id, result)

    async def _close_quietly(self, intent_id: str, job_id: str | None, result: str) -> None:
        """Close an intent; if storage fails, the watcher's adoption finishes it later."""
        self._services.creates_under_way.discard(intent_id)
        try:
            await self._services.store.close_intent(intent_id, job_id=job_id, result=result, now=self._now())
        except DatabaseUnavailable as error:
            log.warning("could not close create intent %s (%s)", intent_id, error)

    async def _interrupted_before_card(
        self, tracked: TrackedJob, actor: Actor, note: AuditNote, named: str | None
    ) -> StartedWithoutCard:
        """Shutdown came after the job was tracked, before its card was posted: the owner channel follows
        it (the notifier posts the card with the first note), and the person is told."""
        await self._cards.watch_without_card(tracked, actor)
        log_interrupted(actor, tracked.job_id)
        note.job_id = tracked.job_id
        note.result = started_without_card_result(tracked.status)
        await self._close_intent(tracked.job_id, note.result)
        return StartedWithoutCard(tracked.job_id, tracked.status, channel=named)

    async def watch(self, job_id: str, actor: Actor) -> Followed:
        """Follow a job in this channel: track it (this channel then owns it) or add a watch; post its card."""
        async with self._audit.around(Action.WATCH, actor, job_id) as note, self._per_job.hold(job_id):
            read_at = self._now()
            job = await self._services.api.retrieve_job(job_id)
            store = self._services.store
            tracked = await store.get_job(job.id)
            if tracked is None:
                tracked = await self._track(
                    job,
                    read_at,
                    owner=actor.channel,
                    creator=await creator_of(job, self._people.by_email),
                    origin=Origin.WATCH,
                )
                card = card_for(tracked, self._now())
                problem = await self._cards.post_then_watch(tracked, actor, card)
                note.result = "now tracked" + (f"; card not posted: {problem}" if problem else "")
            else:
                tracked = await self._observe(job, read_at, tracked) or tracked
                card = card_for(tracked, self._now())
                existing = await store.get_watch(job.id, actor.channel)
                card_ts = existing.card_ts if existing is not None else None
                if card_ts is not None and await self._cards.update(tracked, actor.channel, card, ts=card_ts):
                    note.result = "already watching; card refreshed"
                    return Followed(tracked, already=True)
                problem = await self._cards.post_then_watch(tracked, actor, card)
                note.result = ("card re-posted" if existing else "watching") + (
                    f"; card not posted: {problem}" if problem else ""
                )
            return Followed(tracked, already=False, card_not_posted=_not_posted(problem))

    async def unwatch(self, job_id: str, actor: Actor) -> Unfollowed:
        """Stop following the job here; its card in this channel is frozen (no buttons, no estimate, a
        line saying so), so it never pretends to be live."""
        async with self._audit.around(Action.UNWATCH, actor, job_id) as note:
            store = self._services.store
            watch = await store.get_watch(job_id, actor.channel)
            removed = await store.remove_watch(job_id, actor.channel)
            note.result = "stopped watching" if removed else "was not watching"
            if removed and watch is not None and watch.card_ts:
                await self._freeze_card(job_id, actor, watch.card_ts)
            return Unfollowed(job_id, was_following=removed)

    async def _freeze_card(self, job_id: str, actor: Actor, card_ts: str) -> None:
        """Draw the card one last time from a fresh read (the stored one when the API does not answer)."""
        tracked = await self._services.store.get_job(job_id)
        if tracked is None:
            return
        with contextlib.suppress(FineTuneError):
            async with self._per_job.hold(job_id):
                read_at = self._now()
                job = await self._services.api.retrieve_job(job_id)
                tracked = await self._observe(job, read_at) or tracked
        card = frozen_card_for(tracked, self._now(), by=actor.user, command=self.command)
        await self._cards.update(None, actor.channel, card, ts=card_ts)

    async def refused_buttons(self, job_id: str, actor: Actor) -> set[Action]:
        """The card buttons this person could only be refused here (left off a card shown to them)."""
        refused: set[Action] = set()
        for action in CONTROL_ACTIONS:
            if not (await self.authorize(action, job_id, actor)).allowed:
                refused.add(action)
        return refused

    # ---- reading ----------------------------------------------------------------------------------------

    async def status(self, job_id: str, actor: Actor) -> StatusShown:
        """The job as the API sees it now (recorded, when tracked)."""
        async with self._audit.around(Action.STATUS, actor, job_id) as note, self._per_job.hold(job_id):
            read_at = self._now()
            job = await self._services.api.retrieve_job(job_id)
            tracked = await self._observe(job, read_at)
            note.result = job.status
            return StatusShown(job, tracked)

    async def events(self, job_id: str, limit: int, actor: Actor) -> EventsShown:
        async with self._audit.around(Action.EVENTS, actor, job_id) as note:
            page = await self._services.api.list_events(job_id, limit=limit)
            note.result = f"{len(page.data)} events"
            return EventsShown(job_id, page.data)

    async def checkpoints(self, job_id: str, actor: Actor) -> CheckpointsShown:
        async with self._audit.around(Action.CHECKPOINTS, actor, job_id) as note:
            page = await self._services.api.list_checkpoints(job_id, limit=MAX_CHECKPOINTS)
            note.result = f"{len(page.data)} checkpoints"
            return CheckpointsShown(job_id, page.data)

    async def list_jobs(
        self, request: ListJobs, actor: Actor, *, cursor: ListCursor | None = None
    ) -> JobListPage:
        """This channel's jobs (newest first), or with `all` the account's; `cursor` for the next pages
        ("Next page"). Audited like every action: a list reads the account's jobs (`all` asks the API)."""
        async with self._audit.around(Action.LIST, actor) as note:
            page = await self._lists.page(request, actor, cursor=cursor)
            note.result = page.summary
            return page

    async def problems_before_create(self, spec: JobSpec) -> dict[str, str]:
        """A model or file the API says does not exist, by field, asked quickly (see `create_precheck`)."""
        return await problems_before_create(self._services.api, spec)

    async def open_create_form(self, actor: Actor, open_form: Callable[[], Awaitable[object]]) -> None:
        """Open the create form with `open_form` (`views.open` with the request's trigger id).

        Audited although it changes nothing: it is the first half of a create, and a form opened and
        never submitted (or held back, see `form_held_back`) is part of the story of a job that was not
        started. `help` is not audited: it reads nothing and concerns no job."""
        async with self._audit.around(Action.OPEN_FORM, actor) as note:
            await open_form()
            note.result = "form opened"

    # ---- pause, resume, cancel, refresh -------------------------------------------------------------

    async def act(
        self,
        action: ControlAction,
        job_id: str,
        actor: Actor,
        *,
        card_ts: str | None = None,
        update_card: bool = True,
    ) -> ControlOutcome:
        """Ask the API to pause/resume/cancel, record its answer (the notifier tells the thread who did it)
        and redraw the card in place: the one clicked (`card_ts`) or this channel's. One intent makes one
        call: while the same action on the job is under way, or once the job has finished, none is sent."""
        key = f"{action}:{job_id}"
        if key in self._under_way:
            async with self._audit.around(action, actor, job_id) as note:
                note.result = "not sent: the same request is under way"
                return ActionNotSent(action, job_id, "under_way")
        self._under_way.add(key)
        try:
            return await self._act(action, job_id, actor, card_ts=card_ts, update_card=update_card)
        finally:
            self._under_way.discard(key)

    async def _act(
        self, action: ControlAction, job_id: str, actor: Actor, *, card_ts: str | None, update_card: bool
    ) -> ControlOutcome:
        calls: dict[ControlAction, Callable[[str], Awaitable[FineTuningJob]]] = {
            Action.PAUSE: self._services.api.pause_job,
            Action.RESUME: self._services.api.resume_job,
            Action.CANCEL: self._services.api.cancel_job,
        }
        async with self._audit.around(action, actor, job_id) as note, self._per_job.hold(job_id):
            before = await self._services.store.get_job(job_id)
            if before is not None and before.status in TERMINAL_STATUSES:
                note.result = f"not sent: the job has {before.status}"
                return ActionNotSent(action, job_id, "finished", status=before.status)
            read_at = self._now()
            job = await calls[action](job_id)
            try:
                tracked = await self._observe(
                    job,
                    read_at,
                    before,
                    details={"actor": actor.user, "action": action},
                    next_poll_at=self._now() + min(ACTION_FOLLOW_UP_SECONDS, self._polls.interval),
                )
            except DatabaseUnavailable as error:
                done = f"The {action} of {job_id} was accepted by the API (now {job.status})"
                raise not_recorded(done, error) from error
            card = job_card(job, tracked, self._now())
            updated = update_card and await self._cards.update(tracked, actor.channel, card, ts=card_ts)
            note.result = f"{before.status if before else 'untracked'} → {job.status}"
            return ActionDone(action, job, tracked, card_updated=updated)

    async def refresh(
        self, job_id: str, actor: Actor, *, card_ts: str | None = None, update_card: bool = True
    ) -> ActionDone:
        async with self._audit.around(Action.REFRESH, actor, job_id) as note, self._per_job.hold(job_id):
            read_at = self._now()
            job = await self._services.api.retrieve_job(job_id)
            tracked = await self._observe(job, read_at)
            card = job_card(job, tracked, self._now())
            updated = update_card and await self._cards.update(tracked, actor.channel, card, ts=card_ts)
            note.result = job.status
            return ActionDone(Action.REFRESH, job, tracked, card_updated=updated)

    # ---- helpers --------------------------------------------------------------------------------------

    async def _observe(
        self,
        job: FineTuningJob,
        read_at: float,
        tracked: TrackedJob | None = None,
        *,
        details: dict[str, object] | None = None,
        next_poll_at: float | None = None,
    ) -> TrackedJob | None:
        """Record what the API said about a tracked job in answer to a request sent at `read_at`; wake the
        notifier on a status change. Returns the job as stored: when a poll sent later was recorded first,
        this answer is dropped as older, and the job shows what that poll saw."""
        store = self._services.store
        tracked = tracked or await store.get_job(job.id)
        if tracked is None:
            return None
        now = self._now()
        if next_poll_at is None:
            next_poll_at = min(tracked.next_poll_at, self._polls.next_poll_at(job.status, now))
        observation = Observation(
            status=job.status,
            progress=Progress(),
            snapshot=_snapshot(job),
            details=details or {},
            read_at=read_at,
        )
        # The answer is recorded at once (a poll must not record the change first, without who did it);
        # the notifier is woken only once the steps and losses of the same moment are recorded with it.
        changed = await store.record_observation(job.id, observation, now=now, next_poll_at=next_poll_at)
        events = await self._new_events(tracked)
        if events:
            now = self._now()
            figures = Observation(
                status=job.status,
                progress=progress_from(job, events),
                snapshot=_snapshot(job),
                last_event_id=events[-1].id,
                last_event_at=now,
                read_at=read_at,  # the same read: a poll recorded since is newer and keeps its status
            )
            await store.record_observation(job.id, figures, now=now, next_poll_at=next_poll_at)
        if changed:
            self._services.outbox_ready.set()
        return await store.get_job(job.id)

    async def _new_events(self, tracked: TrackedJob) -> list[JobEvent]:
        """The job's events since the last one recorded, oldest first; none when they cannot be read
        quickly (the watcher reads them on its next cycle)."""
        try:
            return await asyncio.wait_for(
                self._services.api.events_since(tracked.job_id, tracked.last_event_id),
                EVENTS_WITH_READ_SECONDS,
            )
        except (FineTuneError, TimeoutError) as error:
            log.info("events of %s not read with its status: %s", tracked.job_id, type(error).__name__)
            return []

    async def _track(
        self, job: FineTuningJob, read_at: float, *, owner: str, creator: str | None, origin: Origin
    ) -> TrackedJob:
        """Track a job the API just described, with no watch yet: the caller posts its card, then makes
        the owner channel follow it (`ChannelCards.post_then_watch`). Until then the job is neither polled
        nor notified about, so the notifier cannot post a second card; its first poll waits its normal
        turn, set in the same transaction (the card about to be posted shows what the API just said)."""
        return await track_unwatched(
            self._services,
            self._polls,
            job,
            owner=owner,
            creator=creator,
            origin=origin,
            read_at=read_at,
            now=self._now(),
        )


def _not_posted(problem: str | None) -> CardNotPosted | None:
    if not problem:
        return None
    return CardNotPosted(problem, unreachable=problem in UNREACHABLE_ERRORS)


def _snapshot(job: FineTuningJob) -> dict[str, object]:
    snapshot: dict[str, object] = job.model_dump(mode="json")
    return snapshot
