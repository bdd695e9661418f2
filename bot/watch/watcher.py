"""The watcher: follows every tracked job through the fine-tuning API and records what changed.

One cycle takes the jobs whose poll time has come, reads them as cheaply as it can (list pages when many
are due), reads new metrics events for the training ones, and records each observation in one storage
transaction (a status change enqueues its notifications there), then wakes the notifier. It never talks
to Slack, so nothing it meets (rate limits, outages, odd answers) can reach a channel. A finished job is
read once more for its final figures, then never again. Lines about one job name it and its channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.finetune.errors import (
    FineTuneError,
)
from bot.finetune.models import FineTuningJob, JobEvent, StatusGroup, status_group
from bot.jobs.records import Observation, Progress, TrackedJob
from bot.ops.logs import log_context
from bot.ops.metrics import POLL_CYCLE_SECONDS, POLL_LAG_SECONDS
from bot.ops.waiting import wait_any
from bot.services import Services
from bot.watch.adoption import Adoption
from bot.watch.discovery import Discovery
from bot.watch.poll_policy import WAITING_STATUSES, ApiBackoff, JobBackoff, PollPolicy
from bot.watch.progress import progress_from, with_final_losses
from bot.watch.progress_notes import queue_progress_notes
from bot.watch.reads import (
    UNREADABLE_AFTER,
    ApiReader,
    ApiTrouble,
    JobRead,
    ReadTooSlow,
    read_deadline_for,
    unreadable_reason,
)

log = logging.getLogger(__name__)


@dataclass
class CycleResult:
    due: int = 0
    recorded: int = 0
    changes: int = 0
    list_pages: int = 0
    discovery_pages: int = 0  # list pages read for subscriptions (and paused jobs), once per interval
    announced: int = 0
    single_reads: int = 0
    event_reads: int = 0
    skipped_for_backoff: bool = False
    more_due: bool = False
    errors: list[str] = field(default_factory=list)


class Watcher:
    def __init__(
        self,
        services: Services,
        *,
        policy: PollPolicy | None = None,
        due_limit: int = 1000,
        list_threshold: int = 3,
        page_size: int = 100,
        max_list_pages: int = 10,
        concurrency: int = 8,
        read_deadline: float | None = None,
        stuck_after: float | None = None,
        api_backoff_cap: float = 300.0,
        job_backoff_cap: float = 1800.0,
        events_page_size: int = 100,
        events_max_pages: int = 5,
        events_per_cycle: int = 100,
        tick: float | None = None,
        prune_every: float = 3600.0,
        retention: float = 30 * 86400.0,
    ) -> None:
        interval = services.settings.poll_interval
        self._services = services
        self._policy = policy if policy is not None else PollPolicy(interval=interval)
        self._due_limit = due_limit
        self._list_threshold = list_threshold
        self._page_size = page_size
        self._max_list_pages = max_list_pages
        self._reader = ApiReader(
            services.clock,
            concurrency=concurrency,
            deadline=read_deadline if read_deadline is not None else read_deadline_for(interval),
        )
        # Long enough that a slow step is not "stuck": a real job logs a metrics event every few steps.
        self.stuck_after = stuck_after if stuck_after is not None else max(1800.0, 20 * interval)
        self._api_backoff = ApiBackoff(base=max(1.0, interval), cap=max(api_backoff_cap, interval))
        self._job_backoff = JobBackoff(base=max(1.0, interval), cap=max(job_backoff_cap, interval))
        self._events_page_size = events_page_size
        self._events_max_pages = events_max_pages
        self._events_per_cycle = events_per_cycle
        self._events_read_at: dict[str, float] = {}
        self._tick = tick if tick is not None else min(1.0, max(0.05, interval / 10))
        # When this process first saw each job running: "quiet since" never reaches back past it, so a
        # job that waited in a queue for hours is not called stuck the moment it starts.
        self._running_since: dict[str, float] = {}
        self.last_cycle_at: float | None = None
        self.cycles = 0  # cycles run, those skipped while waiting out an API outage included
        self._wake = asyncio.Event()
        # Housekeeping: notifications of jobs finished longer than `retention` ago are deleted.
        self._prune_every = prune_every
        self._retention = retention
        self._next_prune_at = float("-inf")
        self._adoption = Adoption(services)
        self._discovery = Discovery(services, self._reader)

    @property
    def read_deadline(self) -> float:
        return self._reader.deadline

    # ---- the loop -------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Poll due jobs now instead of at the next tick (a job was just tracked, say)."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            result = await self.run_cycle()
            self.last_cycle_at = self._services.clock()
            await self.prune_if_due(self.last_cycle_at)
            if result.more_due and not result.skipped_for_backoff:
                await asyncio.sleep(0)
                continue
            await self._pause(stopping)

    async def _pause(self, stopping: asyncio.Event) -> None:
        await wait_any(stopping, self._wake, seconds=self._tick)
        self._wake.clear()

    async def prune_if_due(self, now: float) -> int | None:
        """Delete delivered notifications of jobs finished over `retention` ago, at most once every
        `prune_every` seconds; how many went, or None when it was not time yet."""
        if now < self._next_prune_at:
            return None
        self._next_prune_at = now + self._prune_every
        removed = await self._services.store.prune_delivered(before=now - self._retention, now=now)
        if removed:
            log.info("pruned %d delivered notifications of jobs finished long ago", removed)
        return removed

    # ---- one cycle ------------------------------------------------------------------------------------

    async def run_cycle(self) -> CycleResult:
        self.cycles += 1
        result = CycleResult()
        now = self._services.clock()
        if self._api_backoff.blocked(now):
            # Waiting out an outage: the lag still shows how far behind the polls are falling.
            most_overdue = await self._services.store.due_jobs(now=now, limit=1)
            POLL_LAG_SECONDS.set(max((now - job.next_poll_at for job in most_overdue), default=0.0))
            result.skipped_for_backoff = True
            return result
        await self._adoption.run()  # creates cut short: their tagged jobs are tracked here
        discovered = await self._discovery.run(now)  # jobs started anywhere that subscriptions follow
        listed = discovered.reads if discovered is not None else {}
        if discovered is not None:
            result.discovery_pages, result.announced = discovered.pages, discovered.announced
        due = await self._services.store.due_jobs(now=now, limit=self._due_limit)
        result.more_due = len(due) >= self._due_limit
        POLL_LAG_SECONDS.set(max((now - job.next_poll_at for job in due), default=0.0))
        # A followed job on a page just read whose status moved is recorded now, due or not.
        due = [*due, *await self._moved_on_pages(listed, due)]
        result.due = len(due)
        if not due:
            return result
        started = time.monotonic()
        try:
            after = discovered.continue_after if discovered is not None else None
            await self._refresh(due, result, listed, after=after)
        except ApiTrouble as trouble:
            self._api_trouble(trouble.cause, result)
        else:
            if self._api_backoff.failures:
                log.info("the fine-tuning API answers again; catching up")
            self._api_backoff.succeed()
        finally:
            POLL_CYCLE_SECONDS.observe(time.monotonic() - started)
            if result.recorded:
                self._services.outbox_ready.set()
        return result

    def _api_trouble(self, cause: FineTuneError, result: CycleResult) -> None:
        result.errors.append(str(cause))
        first = self._api_backoff.failures == 0
        wait = self._api_backoff.fail(self._services.clock())
        # One line when trouble starts, then quiet debug lines: an outage must not flood the log either.
        if first:
            log.warning("fine-tuning API trouble (%s); polling again in %.0fs", cause, wait)
        else:
            log.debug("fine-tuning API still failing (%s); next try in %.0fs", cause, wait)

    async def _moved_on_pages(
        self, listed: dict[str, JobRead], due: Sequence[TrackedJob]
    ) -> list[TrackedJob]:
        """The followed jobs on pages read this cycle, not due yet, whose status is not the one recorded."""
        if not listed:
            return []
        due_ids = {job.job_id for job in due}
        others = [job_id for job_id in listed if job_id not in due_ids]
        return [
            tracked
            for tracked in await self._services.store.tracked_among(others)
            if listed[tracked.job_id].job.status != tracked.status
        ]

    async def _refresh(
        self,
        due: Sequence[TrackedJob],
        result: CycleResult,
        read: dict[str, JobRead] | None = None,
        *,
        after: str | None = None,
    ) -> None:
        """Read and record the due jobs; `read`: jobs already on the newest pages, read this cycle, and
        `after` where those pages end (list pages for the rest start there)."""
        listed = dict(read or {})
        unread = [tracked for tracked in due if tracked.job_id not in listed]
        if len(unread) >= self._list_threshold:
            listed.update(await self._read_by_list(unread, result, after=after if listed else None))
        progress_due = self._progress_due(due, listed)
        trouble: list[ApiTrouble] = []

        async def one(tracked: TrackedJob) -> None:
            if trouble:
                return  # the API is failing: leave the rest due, the backoff decides when to come back
            try:
                with log_context(job_id=tracked.job_id, channel=tracked.owner_channel):
                    await self._refresh_one(
                        tracked,
                        listed.get(tracked.job_id),
                        result,
                        progress_due=tracked.job_id in progress_due,
                    )
            except ApiTrouble as exc:
                trouble.append(exc)

        await asyncio.gather(*(one(tracked) for tracked in due))
        if trouble:
            raise trouble[0]

    async def _read_by_list(
        self, due: Sequence[TrackedJob], result: CycleResult, *, after: str | None = None
    ) -> dict[str, JobRead]:
        """The due jobs found in list pages (newest first, `page_size` jobs each).

        Pages are read until every due job was seen, the page bound is reached, or the pages have gone
        past every job still missing; the caller reads the rest one by one. A page that cannot be read (a
        job in it the client cannot parse, a refused list call) is not an outage: the jobs are read one
        by one instead, and only one that fails alone is put off."""
        created = {job.job_id: _created_at(job) for job in due}
        found: dict[str, JobRead] = {}
        while result.list_pages < self._max_list_pages:
            try:
                page, read_at = await self._reader.call_stamped(
                    self._services.api.list_jobs(after=after, limit=self._page_size)
                )
            except FineTuneError as exc:
                # One odd job spoils the whole page (or the list call was refused): read the jobs not
                # found yet one by one, so only a job that cannot be read is left behind.
                result.list_pages += 1
                log.info("could not read the job list (%s); reading the due jobs one by one", exc)
                break
            result.list_pages += 1
            for job in page.data:
                if job.id in created:
                    found[job.id] = JobRead(job, read_at)
            missing = [created[job_id] for job_id in created if job_id not in found]
            if not missing or not page.has_more or not page.last_id or not page.data:
                break
            if len(missing) < self._list_threshold:
                break  # a few single reads are cheaper than another page
            # Pages go back in time: once past every missing job's creation, they are not coming.
            if min(missing) > page.data[-1].created_at:
                break
            after = page.last_id
        return found

    def _progress_due(self, due: Sequence[TrackedJob], listed: dict[str, JobRead]) -> set[str]:
        """The training jobs whose metrics events are read this cycle: at most `events_per_cycle`, those
        read longest ago first (a job that just finished is always read, whatever the budget).

        A card is redrawn at most every few seconds and Slack allows about 50 card edits a minute for the
        whole workspace, so reading every running job's events every cycle would buy nothing past that:
        with 1,000 running jobs each one's progress is still read every few minutes.
        """
        training = []
        for tracked in due:
            read = listed.get(tracked.job_id)
            status = read.job.status if read is not None else tracked.status
            if _reads_events(status) and status_group(status) is not StatusGroup.TERMINAL:
                training.append(tracked.job_id)
        training.sort(key=lambda job_id: self._events_read_at.get(job_id, 0.0))
        return set(training[: self._events_per_cycle])

    async def _refresh_one(
        self, tracked: TrackedJob, listed: JobRead | None, result: CycleResult, *, progress_due: bool
    ) -> None:
        now = self._services.clock()
        read = listed
        if read is None:
            try:
                read = JobRead(
                    *await self._reader.call_stamped(self._services.api.retrieve_job(tracked.job_id))
                )
                result.single_reads += 1
            except FineTuneError as exc:
                result.single_reads += 1
                await self._job_failed(tracked, exc, now)
                return
        job = read.job
        events: list[JobEvent] | None = None
        trouble: ApiTrouble | None = None
        too_slow = False
        if _reads_events(job.status) and (progress_due or job.is_terminal):
            try:
                events = await self._read_events(tracked, result, now)
            except ApiTrouble as exc:
                if job.is_terminal:
                    raise  # read the end (final events) together with the final status, next cycle
                trouble = exc  # record the status now; the backoff starts after
            except ReadTooSlow:
                # Record the status now (an end without its last events, as when they cannot be read);
                # a job still going reads again later, alone.
                too_slow = not job.is_terminal
        backoff: float | None = None
        if too_slow:
            backoff = self._job_backoff.fail(tracked.job_id)
            log.info("events of %s took too long to read; reading it again in %.0fs", tracked.job_id, backoff)
        else:
            self._job_backoff.succeed(tracked.job_id)
        progress = progress_from(job, events or [])
        if job.is_terminal and job.status == "succeeded" and progress.train_loss is None:
            progress = await self._final_losses(job, progress)
        # Storage is told the time of recording, not of the start: it sees the clock went back when a
        # recorded read looks sent after "now", so "now" must not predate a read recorded meanwhile.
        now = self._services.clock()
        observation = Observation(
            status=job.status,
            progress=progress,
            snapshot=job.model_dump(mode="json"),
            last_event_id=events[-1].id if events else None,
            last_event_at=now if events else None,
            details=_note_details(job),
            # The status read's send time, not the events': the status is what must not go back in time.
            read_at=read.read_at,
            # Events (and results) were read with it: the job is done with. When a person's Refresh or
            # Cancel recorded the end first, storage kept the job due for this read, and held its
            # success note until now, so the note carries the final losses.
            final_read=job.is_terminal,
        )
        next_poll_at = now + backoff if backoff is not None else self._policy.next_poll_at(job.status, now)
        change = await self._services.store.record_observation(
            tracked.job_id, observation, now=now, next_poll_at=next_poll_at
        )
        result.recorded += 1
        if not job.is_terminal and await queue_progress_notes(self._services, tracked, progress, now=now):
            self._services.outbox_ready.set()
        if change is not None:
            result.changes += 1
            self._services.outbox_ready.set()  # told now, not when the cycle's slowest read is over
        if job.is_terminal:
            self._events_read_at.pop(tracked.job_id, None)
        if events is not None:  # "stuck" is judged only on a fresh read of the events
            await self._maybe_stuck(tracked, read, bool(events), changed=change is not None, now=now)
        if trouble is not None:
            raise trouble

    async def _read_events(
        self, tracked: TrackedJob, result: CycleResult, now: float
    ) -> list[JobEvent] | None:
        """New events since the last one seen, oldest first; None when they could not be read."""
        result.event_reads += 1
        try:
            events = await self._reader.call(
                self._services.api.events_since(
                    tracked.job_id,
                    tracked.last_event_id,
                    page_size=self._events_page_size,
                    max_pages=self._events_max_pages,
                )
            )
        except ReadTooSlow:
            raise
        except FineTuneError as exc:
            log.info("could not read events of %s: %s", tracked.job_id, exc)
            return None
        self._events_read_at[tracked.job_id] = now
        return events

    async def _final_losses(self, job: FineTuningJob, progress: Progress) -> Progress:
        if not job.result_files:
            return progress
        try:
            results = await self._reader.call(self._services.api.read_results(job.result_files[0]))
        except FineTuneError as exc:
            log.info("could not read the results file of %s: %s", job.id, exc)
            return progress
        return with_final_losses(progress, results)

    async def _maybe_stuck(
        self, tracked: TrackedJob, read: JobRead, new_events: bool, *, changed: bool, now: float
    ) -> None:
        if read.job.status != "running":
            self._running_since.pop(tracked.job_id, None)
            return
        since = self._running_since.setdefault(tracked.job_id, now)
        if changed or new_events or tracked.stuck_noted:
            return
        quiet_since = max(since, tracked.last_event_at or 0.0)
        if now - quiet_since >= self.stuck_after and await self._services.store.note_stuck(
            tracked.job_id, now=now, read_at=read.read_at
        ):
            log.info("%s looks stuck: no new event for %.0fs", tracked.job_id, now - quiet_since)
            self._services.outbox_ready.set()

    async def _job_failed(self, tracked: TrackedJob, error: FineTuneError, now: float) -> None:
        """A job the API will not give back: poll it less and less often (it never reaches Slack).

        A finished job due for its final read is not tried again: its end is recorded already, only its
        last figures are missing, and a job the API refuses (deleted, say) will not come back.
        """
        if status_group(tracked.status) is StatusGroup.TERMINAL:
            self._job_backoff.succeed(tracked.job_id)  # forgets it
            self._events_read_at.pop(tracked.job_id, None)
            if await self._services.store.give_up_final_read(tracked.job_id):
                log.info(
                    "could not read finished %s for its last figures (%s); leaving it", tracked.job_id, error
                )
                self._services.outbox_ready.set()  # its success note no longer waits for them
            return
        wait = self._job_backoff.fail(tracked.job_id)
        log.info("could not read %s (%s); trying again in %.0fs", tracked.job_id, error, wait)
        await self._services.store.schedule_poll(tracked.job_id, next_poll_at=now + wait)
        if self._job_backoff.failures(tracked.job_id) == UNREADABLE_AFTER and (
            await self._services.store.note_unreadable(
                tracked.job_id, reason=unreadable_reason(error), now=now
            )
        ):
            self._services.outbox_ready.set()


def _reads_events(status: str) -> bool:
    """Training and finishing jobs have metrics events worth reading; waiting and paused ones do not."""
    group = status_group(status)
    if group is StatusGroup.TERMINAL:
        return True  # the final read: the last metrics before the job is never polled again
    return group is not StatusGroup.PARKED and status not in WAITING_STATUSES


def _created_at(job: TrackedJob) -> float:
    value = job.snapshot.get("created_at") if job.snapshot else None
    return float(value) if isinstance(value, int | float) else job.created_at


def _note_details(job: FineTuningJob) -> dict[str, object]:
    """What a status note needs, frozen at the moment of the change (the snapshot moves on later)."""
    details: dict[str, object] = {"job": job.model_dump(mode="json")}
    if job.error is not None:
        details["error"] = {"code": job.error.code, "message": job.error.message}
    return details
