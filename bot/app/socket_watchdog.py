"""Keeps the Socket Mode connection alive when the SDK's own reconnect gives up.

The SDK's client reconnects by itself most of the time, yet connections are known to stay silently dead
(bolt-python #417, #1446, #1529). Every `interval` seconds this *awaits* `client.is_connected()` (the bare
coroutine is always truthy); after `max_failures` "down" answers in a row it connects a brand-new handler (a
closed client cannot be reused) and keeps trying until a connection holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from prometheus_client import Counter, Gauge

from bot.ops.metrics import REGISTRY

log = logging.getLogger(__name__)

SOCKET_RECONNECTS = Counter(
    "tuneops_socket_reconnects_total",
    "Socket Mode connections re-established by the watchdog, by outcome (ok, failed)",
    ["outcome"],
    registry=REGISTRY,
)
SOCKET_CONNECTED = Gauge(
    "tuneops_socket_connected", "1 when the Socket Mode WebSocket was up at the last check", registry=REGISTRY
)


class ConnectionProbe(Protocol):
    async def is_connected(self) -> bool: ...


class SocketHandler(Protocol):
    """What the watchdog needs of `slack_bolt`'s `AsyncSocketModeHandler`."""

    @property
    def client(self) -> ConnectionProbe: ...

    async def connect_async(self) -> None: ...

    async def close_async(self) -> None: ...


class SocketWatchdog:
    def __init__(
        self,
        make_handler: Callable[[], SocketHandler],
        *,
        interval: float = 10.0,
        max_failures: int = 3,
        connect_timeout: float = 30.0,
        close_timeout: float = 2.0,
    ) -> None:
        self._make_handler = make_handler
        self.interval = interval
        self.max_failures = max_failures
        self.connect_timeout = connect_timeout
        # A close is bounded apart from a connect: the service's stop must fit in Docker's 10 s.
        self.close_timeout = close_timeout
        self.handler: SocketHandler | None = None
        self.failures = 0
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Connect the first handler and start watching; False when that first connection failed.

        A failed start is not fatal: the watchdog keeps trying, and `/healthz` reports the socket as down.
        """
        connected = await self._connect_new()
        self._task = asyncio.create_task(self._watch(), name="socket-watchdog")
        return connected

    async def stop(self) -> None:
        """Stop watching and close the connection (waiting at most `close_timeout` for the close)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_current()

    async def is_connected(self) -> bool:
        if self.handler is None:
            return False
        return bool(await self.handler.client.is_connected())

    async def check(self) -> bool:
        """One watchdog step: look at the connection, reconnect when it stayed down long enough."""
        connected = await self._safe_is_connected()
        SOCKET_CONNECTED.set(1 if connected else 0)
        if connected:
            if self.failures:
                log.info("Socket Mode connection is up again")
            self.failures = 0
            return True
        self.failures += 1
        log.warning("Socket Mode connection is down (check %d of %d)", self.failures, self.max_failures)
        if self.failures >= self.max_failures:
            return await self.reconnect()
        return False

    async def reconnect(self) -> bool:
        """Throw the current handler away and connect a new one; True when the new one is connected."""
        log.warning("re-establishing the Socket Mode connection")
        await self._close_current()
        connected = await self._connect_new()
        SOCKET_RECONNECTS.labels(outcome="ok" if connected else "failed").inc()
        if connected:
            self.reconnects += 1
            self.failures = 0
            SOCKET_CONNECTED.set(1)
            log.info("Socket Mode connection re-established by the watchdog")
        return connected

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:
                log.exception("Socket Mode watchdog check failed; will try again")

    async def _safe_is_connected(self) -> bool:
        try:
            return await asyncio.wait_for(self.is_connected(), self.connect_timeout)
        except Exception:
            log.warning("could not ask the Socket Mode client whether it is connected", exc_info=True)
            return False

    async def _connect_new(self) -> bool:
        self.handler = self._make_handler()
        try:
            await asyncio.wait_for(self.handler.connect_async(), self.connect_timeout)
            connected = await self._safe_is_connected()
        except Exception:
            log.warning("could not connect to Slack in Socket Mode", exc_info=True)
            connected = False
        SOCKET_CONNECTED.set(1 if connected else 0)
        return connected

    async def _close_current(self) -> None:
        handler, self.handler = self.handler, None
        if handler is None:
            return
        try:
            await asyncio.wait_for(handler.close_async(), self.close_timeout)
        except Exception:
            log.warning("closing the old Socket Mode handler failed; dropping it", exc_info=True)
