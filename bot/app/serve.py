"""`tuneops run` and `tuneops migrate`: the long-running service and its storage migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app.db_lock import DatabaseInUse
from bot.app.health import health_of, ops_extension
from bot.app.runtime import DatabaseNotWritable, Runtime
from bot.app.signals import stopped_by_signals
from bot.app.socket_watchdog import SocketWatchdog
from bot.config import ConfigError, Settings, load_settings
from bot.ops.logs import setup_logging_from_settings
from storage.sqlite import open_store

log = logging.getLogger(__name__)

# Where someone who cannot start the service yet goes next: test each setting, or try it all locally.
NEXT_STEPS = (
    "Run `tuneops check` to test each setting against Slack and the API, or `tuneops sandbox` to try "
    "TuneOps on this machine with no Slack app and no API key."
)

# Within Docker's default 10 s between SIGTERM and SIGKILL (`docker stop`); Kubernetes allows 30 s.
SHUTDOWN_TIMEOUT_SECONDS = 8.0
# Closing the Socket Mode connection on the way out: a close frame is polite, not worth the stop's budget.
SOCKET_CLOSE_TIMEOUT_SECONDS = 2.0


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
        print(NEXT_STEPS, file=sys.stderr)
        return 2

    try:
        runtime = await Runtime.start(settings, host="0.0.0.0", web_extensions=[ops_extension])
    except ConfigError as exc:  # a setting only usable once read, such as the TUNEOPS_PRICES file
        print("TuneOps cannot start:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except DatabaseInUse as exc:
        print(f"TuneOps cannot start: {exc}.", file=sys.stderr)
        print(
            "  - one process runs per database file (two would notify twice): stop the other one, or give "
            "this one its own TUNEOPS_DB.",
            file=sys.stderr,
        )
        return 1
    except DatabaseNotWritable as exc:
        print(f"TuneOps cannot start: the database cannot be written ({exc}).", file=sys.stderr)
        print(
            "  - check the file's permissions and that its disk is mounted read-write and not full.",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"TuneOps cannot start: {exc.strerror or exc}", file=sys.stderr)
        print(f"  - is port {settings.port} taken? Set PORT to a free port.", file=sys.stderr)
        print(f"  - is {settings.db_path} (TUNEOPS_DB) writable by this user?", file=sys.stderr)
        return 1

    loop = asyncio.get_running_loop()
    with stopped_by_signals() as stopping:
        socket_mode: SocketWatchdog | None = None
        connecting: asyncio.Task[bool] | None = None
        try:
            if settings.slack_app_token is not None:
                app_token = settings.slack_app_token.get_secret_value()
                # The watchdog owns the Socket Mode handler: it replaces it when the connection stays down.
                socket_mode = SocketWatchdog(
                    lambda: AsyncSocketModeHandler(runtime.bolt_app, app_token=app_token),
                    interval=settings.socket_check_interval,
                    close_timeout=SOCKET_CLOSE_TIMEOUT_SECONDS,
                )
                health_of(runtime.web_app).socket = socket_mode
                # The first connect may take its whole timeout (Slack slow or unreachable): a SIGTERM meanwhile
                # must still be answered at once, so the connect runs beside the wait for it.
                connecting = asyncio.create_task(socket_mode.start(), name="socket-mode-connect")
                connecting.add_done_callback(_report_first_connect)
            else:
                log.info("waiting for Slack requests at %s", runtime.events_url)
            await stopping.wait()
            log.info("shutting down")
        finally:
            started_stopping = loop.time()
            if connecting is not None and not connecting.done():
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
            if socket_mode is not None:
                await socket_mode.stop()
            # What the socket close used is taken from the runtime's share, so the whole stop keeps its bound.
            spent = loop.time() - started_stopping
            await runtime.stop(timeout=max(1.0, SHUTDOWN_TIMEOUT_SECONDS - spent))
    return 0


def _report_first_connect(connecting: asyncio.Task[bool]) -> None:
    if connecting.cancelled():
        return
    if connecting.exception() is not None:
        log.error("could not start the Socket Mode connection", exc_info=connecting.exception())
    elif connecting.result():
        log.info("connected to Slack in Socket Mode")
    else:
        log.warning("not connected to Slack in Socket Mode yet; retrying in the background")


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
