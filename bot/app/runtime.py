"""The running service: storage, clients, the Bolt app served over HTTP, and the background work.

`Runtime.start` wires everything and returns once the HTTP server listens; `stop` takes it down in the
reverse order (stop taking requests, let in-flight answers finish, stop the background, close clients).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.app.background import Background
from bot.app.bolt import build_app, build_slack_client, close_slack_client
from bot.app.db_lock import DatabaseLock
from bot.app.request_gate import RequestGate
from bot.app.web import SLACK_EVENTS_PATH, build_web_app
from bot.app.webhooks import add_webhook_route
from bot.config import Settings
from bot.finetune.client import FineTuneClient
from bot.ops.redaction import register_settings_secrets
from bot.services import Services
from handlers.followups import FollowUps
from storage.errors import DatabaseUnavailable
from storage.sqlite import SqliteStore, open_store


class DatabaseNotWritable(Exception):
    """The database cannot be written: nothing could be tracked, so TuneOps does not start."""


async def _writable_store(settings: Settings, busy_timeout: float) -> SqliteStore:
    """Open (and migrate) the store, refusing one that a tiny write does not commit to."""
    try:
        store = await open_store(settings.db_path, busy_timeout=busy_timeout)  # migrates
    except DatabaseUnavailable as error:
        raise DatabaseNotWritable(f"{settings.db_path}: {error}") from error
    problem = await store.check_writable(now=time.time())
    if problem is not None:
        await store.close()
        raise DatabaseNotWritable(f"{settings.db_path}: {problem}")
    return store


log = logging.getLogger(__name__)

HTTP_SHUTDOWN_GRACE_SECONDS = 2.0
DATABASE_BUSY_TIMEOUT = 10.0

# Adds routes to the web Application before it starts serving (e.g. /healthz and /metrics).
WebExtension = Callable[[web.Application, "Runtime"], None]


@dataclass(kw_only=True, eq=False)
class Runtime:
    services: Services
    bolt_app: AsyncApp
    web_app: web.Application
    followups: FollowUps
    background: Background | None
    lock: DatabaseLock | None = None
    # Set once serving: where, and how far the start (and the stop) went.
    _runner: web.AppRunner | None = field(default=None, init=False)
    _host: str = field(default="127.0.0.1", init=False)
    _port: int = field(default=0, init=False)
    _stopped: bool = field(default=False, init=False)
    _background_started: bool = field(default=False, init=False)

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        background: bool = True,
        web_extensions: Sequence[WebExtension] = (),
        busy_timeout: float = DATABASE_BUSY_TIMEOUT,
    ) -> Runtime:
        """Open (and migrate) the store, build the clients and the app, serve HTTP on host:port (None →
        `settings.port`, 0 → any free port) and start the background work when asked; that needs the
        database to itself (`DatabaseInUse` otherwise). `busy_timeout`: how long a write waits for a
        database another process holds before it counts as failing."""
        register_settings_secrets(settings)  # redacted from logs, Slack messages and the audit log
        try:
            lock = DatabaseLock.acquire(settings.db_path) if background else None
        except OSError as error:  # the lock file sits next to the database: its directory is not writable
            raise DatabaseNotWritable(f"{settings.db_path}: {error.strerror or error}") from error
        try:
            store = await _writable_store(settings, busy_timeout)
            try:
                api = FineTuneClient.from_settings(settings)
            except BaseException:
                await store.close()
                raise
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        services = Services(settings=settings, store=store, api=api, slack=build_slack_client(settings))
        followups = FollowUps()
        bolt_app = build_app(services, followups)
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        web_app = build_web_app(bolt_app, gate=RequestGate(secret) if secret.strip() else None)
        runtime = cls(
            services=services,
            bolt_app=bolt_app,
            web_app=web_app,
            followups=followups,
            background=Background(services) if background else None,
            lock=lock,
        )
        try:
            add_webhook_route(web_app, runtime)  # in both Slack modes: HTTP on PORT always runs
            for extend in web_extensions:
                extend(web_app, runtime)
            await runtime._serve(host, settings.port if port is None else port)
            if runtime.background is not None:
                await runtime.background.start()
                runtime._background_started = True
        except BaseException:
            await runtime.stop(timeout=1)
            raise
        return runtime

    async def _serve(self, host: str, port: int) -> None:
        # Slack requests only need their ack: in-flight ones get a short grace at shutdown, not aiohttp's 60 s.
        self._runner = web.AppRunner(
            self.web_app, access_log=None, handle_signals=False, shutdown_timeout=HTTP_SHUTDOWN_GRACE_SECONDS
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self._host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        self._port = int(bound[1])
        log.info("serving HTTP on %s:%d (Slack requests at %s)", host, self._port, SLACK_EVENTS_PATH)

    def wake_watcher(self) -> None:
        """Read due jobs now (a webhook made one due); nothing when no watcher runs in this process."""
        if self.background is not None:
            self.background.wake()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Base URL of the HTTP server, e.g. `http://127.0.0.1:3000`."""
        return f"http://{self._host}:{self._port}"

    @property
    def events_url(self) -> str:
        return self.url + SLACK_EVENTS_PATH

    async def stop(self, timeout: float = 10) -> None:  # noqa: ASYNC109 (a bound per stage, not one deadline)
        """Stop taking requests (in-flight ones get HTTP_SHUTDOWN_GRACE_SECONDS); meanwhile let the work
        behind acks already given finish (half of `timeout`, then an eighth once cancelled) and stop the
        background work (half of it); close the clients and the store. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._runner is not None:
            await self._runner.cleanup()
        # The two at once: a create in flight (an API call that may start a billed job) gets half of the
        # budget, and an eighth more to audit and answer once cancelled.
        await asyncio.gather(
            self.followups.drain(timeout=timeout / 2, last_words=timeout / 8),
            self._stop_background(timeout / 2),
        )
        await self.services.api.aclose()
        await close_slack_client(self.services.slack)
        await self.services.store.close()
        if self.lock is not None:
            self.lock.release()
        log.info("stopped")

    async def _stop_background(self, timeout: float) -> None:  # noqa: ASYNC109
        if self.background is None or not self._background_started:
            return
        try:
            await self.background.stop(timeout=timeout)
        except Exception:
            log.exception("background work did not stop cleanly")
