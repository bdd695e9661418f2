"""`GET /healthz` and `GET /metrics` for load balancers, orchestrators and Prometheus.

Healthy means: the database answers, the watcher finished a cycle recently, and (in Socket Mode) the
WebSocket to Slack is connected. Each part is reported separately so a 503 says what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.ops.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE, REGISTRY
from storage.store import Store

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0  # seconds; a database that takes longer than this to answer `SELECT 1` is not healthy


class WatcherProbe(Protocol):
    def healthy(self, now: float) -> bool: ...


class SocketProbe(Protocol):
    async def is_connected(self) -> bool: ...


@dataclass(frozen=True)
class HealthReport:
    database: bool
    watcher: bool | None  # None: no watcher runs in this process
    socket_mode: bool | None  # None: HTTP mode
    problems: tuple[str, ...] = ()  # what is wrong, in plain words (for whoever reads /healthz)

    @property
    def ok(self) -> bool:
        return self.database and self.watcher is not False and self.socket_mode is not False

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "unhealthy",
            "database": self.database,
            "watcher": self.watcher,
            "socket_mode": self.socket_mode,
            "problems": list(self.problems),
        }


class HealthCheck:
    """Answers "is this process doing its job?"; `watcher` and `socket` may be attached after construction."""

    def __init__(
        self,
        store: Store,
        *,
        watcher: WatcherProbe | None = None,
        socket: SocketProbe | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.watcher = watcher
        self.socket = socket
        self.clock = clock

    async def report(self) -> HealthReport:
        database_problem, socket_mode = await asyncio.gather(self._database(), self._socket())
        watcher = None if self.watcher is None else bool(self.watcher.healthy(self.clock()))
        problems = [database_problem] if database_problem else []
        if watcher is False:
            problems.append("the watcher has not finished a cycle lately (see the log)")
        if socket_mode is False:
            problems.append("the Socket Mode connection to Slack is down")
        return HealthReport(
            database=database_problem is None,
            watcher=watcher,
            socket_mode=socket_mode,
            problems=tuple(problems),
        )

    async def refresh_gauges(self) -> None:
        """Read the outbox figures into their gauges (they are stored state, so they are read on scrape)."""
        stats = await asyncio.wait_for(self.store.outbox_stats(now=self.clock()), PROBE_TIMEOUT)
        OUTBOX_DEPTH.set(stats.pending)
        OUTBOX_OLDEST_AGE.set(stats.oldest_pending_age or 0.0)

    async def _database(self) -> str | None:
        """None when it answers, a tiny write commits, and the file at its path is the one opened (same
        inode); else what is wrong."""
        try:
            if not await asyncio.wait_for(self.store.ping(), PROBE_TIMEOUT):
                return "the database does not answer"
            problem = await asyncio.wait_for(self.store.check_writable(now=self.clock()), PROBE_TIMEOUT)
        except Exception:
            log.warning("health: the database did not answer", exc_info=True)
            return "the database does not answer"
        if problem is not None:
            log.warning("health: %s", problem)
        return problem

    async def _socket(self) -> bool | None:
        if self.socket is None:
            return None
        try:
            return bool(await asyncio.wait_for(self.socket.is_connected(), PROBE_TIMEOUT))
        except Exception:
            log.warning("health: could not ask the Socket Mode client", exc_info=True)
            return False


HEALTH_KEY = web.AppKey("tuneops_health", HealthCheck)


async def _healthz(request: web.Request) -> web.Response:
    report = await request.app[HEALTH_KEY].report()
    return web.json_response(report.as_json(), status=200 if report.ok else 503)


async def _metrics(request: web.Request) -> web.Response:
    try:
        await request.app[HEALTH_KEY].refresh_gauges()
    except Exception:
        # Serve the rest of the figures anyway; the stale gauges are better than no scrape.
        log.warning("metrics: could not read the outbox figures", exc_info=True)
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_ops_routes(web_app: web.Application, health: HealthCheck) -> None:
    """Serve `GET /healthz` and `GET /metrics` from `web_app` (call before the app starts)."""
    web_app[HEALTH_KEY] = health
    web_app.router.add_get("/healthz", _healthz)
    web_app.router.add_get("/metrics", _metrics)


def ops_extension(web_app: web.Application, runtime: Runtime) -> None:
    """A `Runtime.start(web_extensions=[ops_extension])` hook: health of the runtime's store and watcher.

    The Socket Mode probe, when there is one, is attached afterwards: `health_of(web_app).socket = ...`.
    """
    health = HealthCheck(runtime.services.store, watcher=runtime.background, clock=runtime.services.clock)
    add_ops_routes(web_app, health)


def health_of(web_app: web.Application) -> HealthCheck:
    return web_app[HEALTH_KEY]


def probe(port: int, *, timeout: float = 4.0) -> bool:
    """True when the service on this machine answers `GET /healthz` with 200 (the container HEALTHCHECK)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):  # URLError and HTTPError (a 503) are OSErrors
        return False


if __name__ == "__main__":
    # `python -m bot.app.health`: exit 0 when healthy, 1 otherwise; needs nothing but the standard library.
    sys.exit(0 if probe(int(os.environ.get("PORT") or 3000)) else 1)
