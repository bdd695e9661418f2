"""Keep a background loop alive: restart it when it dies, with backoff, logging and counting each restart.

A loop that returns on its own (because it was asked to stop) is not restarted. A loop that raises is
restarted after a delay that doubles on each quick death (up to `max_backoff`) and falls back to
`min_backoff` once the loop has stayed up for `healthy_after` seconds, so a transient fault (a locked
database, a bug hit by one odd job) costs one short pause, while a crash loop does not spin the CPU.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.ops.backoff import Backoff
from bot.ops.metrics import WATCHER_RESTARTS
from bot.ops.waiting import wait_any

log = logging.getLogger(__name__)


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    stopping: asyncio.Event,
    min_backoff: float = 1.0,
    max_backoff: float = 60.0,
    healthy_after: float = 60.0,
) -> None:
    """Run `run()` until it returns or `stopping` is set, restarting it whenever it raises."""
    deaths = Backoff(base=min_backoff, cap=max_backoff)
    while not stopping.is_set():
        started = time.monotonic()
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            if stopping.is_set():
                return
            if time.monotonic() - started >= healthy_after:
                deaths.succeed()  # it ran long enough: this death starts a new count
            wait = deaths.fail()
            WATCHER_RESTARTS.labels(name).inc()
            log.exception("%s died; restarting in %.1fs", name, wait)
            await wait_any(stopping, seconds=wait)
        else:
            return
