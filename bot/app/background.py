"""The background half of `tuneops run`: the watcher and the notifier, each supervised.

`Runtime` builds one `Background(services)`, awaits `start()`, asks `healthy(now)` for `/healthz`, and
awaits `stop(timeout)` on shutdown. A loop that dies is restarted with backoff and counted in
`tuneops_watcher_restarts_total{task=…}`; a watcher that has not finished a cycle for
`3 × TUNEOPS_POLL_INTERVAL + health_margin` seconds makes the service unhealthy (a silent stall is
the failure users hate most).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.app.supervisor import supervise
from bot.home.publisher import HomeUpkeep
from bot.notify.notifier import Notifier
from bot.ops.logs import log_context
from bot.schedule.loop import ScheduleLoop
from bot.services import Services
from bot.watch.retirements import RetirementWatch
from bot.watch.watcher import Watcher

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Awaitable[None]]


class Background:
    def __init__(
        self,
        services: Services,
        *,
        watcher: Watcher | None = None,
        notifier: Notifier | None = None,
        schedule: ScheduleLoop | None = None,
        home: HomeUpkeep | None = None,
        health_margin: float = 30.0,
        restart_backoff: float = 1.0,
        restart_backoff_cap: float = 60.0,
    ) -> None:
        self._services = services
        self.watcher = watcher if watcher is not None else Watcher(services)
        self.notifier = notifier if notifier is not None else Notifier(services)
        # Digests and quiet-hours summaries (bot/schedule/).
        self.schedule = schedule if schedule is not None else ScheduleLoop(services)
        # The Home tab of people whose jobs changed (bot/home/).
        self.home = home if home is not None else HomeUpkeep(services)
        # Models leaving the API: the date on affected cards, one notice per channel (bot/watch/retirements.py).
        self.retirements = RetirementWatch(services)
        self._health_margin = health_margin
        self._restart_backoff = restart_backoff
        self._restart_backoff_cap = restart_backoff_cap
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started_at: float | None = None

    @property
    def last_cycle_at(self) -> float | None:
        """When the watcher last finished a cycle (service clock), or None before the first."""
        return self.watcher.last_cycle_at

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        self._started_at = self._services.clock()
        self._tasks = [
            asyncio.create_task(self._supervised("watcher", self.watcher.run), name="tuneops-watcher"),
            asyncio.create_task(self._supervised("notifier", self.notifier.run), name="tuneops-notifier"),
            asyncio.create_task(self._supervised("schedule", self.schedule.run), name="tuneops-schedule"),
            asyncio.create_task(self._supervised("home", self.home.run), name="tuneops-home"),
            asyncio.create_task(
                self._supervised("retirements", self.retirements.run), name="tuneops-retirements"
            ),
        ]
        log.info("watcher and notifier started (poll interval %.1fs)", self._services.settings.poll_interval)

    async def _supervised(self, name: str, loop: Loop) -> None:
        # Every line the loop logs (a restart's traceback included) names it; per-job lines add the job.
        with log_context(task=name):
            await supervise(
                name,
                lambda: loop(self._stopping),
                stopping=self._stopping,
                min_backoff=self._restart_backoff,
                max_backoff=self._restart_backoff_cap,
            )

    def wake(self) -> None:
        """Poll now and deliver now (after a job was tracked, or an action recorded a change)."""
        self.watcher.wake()
        self._services.outbox_ready.set()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 (the Runtime's contract)
        """Stop polling and claiming; give deliveries under way up to `timeout` seconds to finish.

        A delivery cut off at the deadline stays claimed in storage; the next start checks its thread
        before sending it again, so stopping never loses or repeats a notification.
        """
        if not self._tasks:
            return
        self._stopping.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def left() -> float:
            return max(0.0, deadline - loop.time())

        watcher_task, notifier_task, *_ = self._tasks
        await asyncio.wait([notifier_task], timeout=left())  # no more claims
        await self.notifier.drain(left())  # the rows under way finish, or are cancelled at the deadline
        await asyncio.wait([watcher_task], timeout=left())  # the cycle under way finishes
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        log.info("watcher and notifier stopped")

    def healthy(self, now: float) -> bool:
        """False when a loop is gone or the watcher has not completed a cycle in too long."""
        if not self.running:
            return False
        limit = 3 * self._services.settings.poll_interval + self._health_margin
        last = self.last_cycle_at if self.last_cycle_at is not None else self._started_at
        return last is not None and now - last <= limit
