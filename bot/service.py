"""`tuneops run` and `tuneops migrate`: the long-running service and its storage migrations."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.config import ConfigError, Settings, load_settings
from bot.health import health_of, ops_extension
from bot.logs import setup_logging_from_settings
from bot.runtime import Runtime
from bot.socket_watchdog import SocketWatchdog
from storage.sqlite import open_store

log = logging.getLogger(__name__)

# Within Docker's default 10 s between SIGTERM and SIGKILL (`docker stop`); Kubernetes allows 30 s.
SHUTDOWN_TIMEOUT_SECONDS = 8.0


def _settings_or_report() -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        print("TuneOps cannot read its configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return None


async def run_service() -> int:
    """Serve until SIGTERM or SIGINT: HTTP on PORT always (Slack requests, and what ops adds), plus a
    Socket Mode connection when SLACK_APP_TOKEN is set. Exit 2 on a configuration problem."""
    settings = _settings_or_report()
    if settings is None:
        return 2
    setup_logging_from_settings(settings)
    problems = settings.problems_for_run()
    if problems:
        print("TuneOps cannot start:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2

    try:
        runtime = await Runtime.start(settings, host="0.0.0.0", web_extensions=[ops_extension])
    except OSError as exc:
        print(f"TuneOps cannot start: {exc.strerror or exc}", file=sys.stderr)
        print(f"  - is port {settings.port} taken? Set PORT to a free port.", file=sys.stderr)
        print(f"  - is {settings.db_path} (TUNEOPS_DB) writable by this user?", file=sys.stderr)
        return 1

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    socket_mode: SocketWatchdog | None = None
    try:
        if settings.slack_app_token is not None:
            app_token = settings.slack_app_token.get_secret_value()
            # The watchdog owns the Socket Mode handler: it replaces it when the connection stays down.
            socket_mode = SocketWatchdog(
                lambda: AsyncSocketModeHandler(runtime.bolt_app, app_token=app_token),
                interval=settings.socket_check_interval,
            )
            health_of(runtime.web_app).socket = socket_mode
            if await socket_mode.start():
                log.info("connected to Slack in Socket Mode")
            else:
                log.warning("not connected to Slack in Socket Mode yet; retrying in the background")
        else:
            log.info("waiting for Slack requests at %s", runtime.events_url)
        await stopping.wait()
        log.info("shutting down")
    finally:
        if socket_mode is not None:
            await socket_mode.stop()
        await runtime.stop(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    return 0


async def migrate() -> int:
    """Apply the storage migrations to TUNEOPS_DB and say which schema version it is at."""
    settings = _settings_or_report()
    if settings is None:
        return 2
    store = await open_store(settings.db_path)
    try:
        version = await store.migrate()
    finally:
        await store.close()
    print(f"{settings.db_path}: schema version {version}")
    return 0
