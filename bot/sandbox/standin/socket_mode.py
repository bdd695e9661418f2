"""Slack's side of Socket Mode, for the stand-in.

`apps.connections.open` (app-level token) hands out a one-use `ws://…/socket/<ticket>` URL. A connecting
app gets Slack's `hello`; then envelopes (`slash_commands`, `interactive`) are pushed and the app's ack,
with its optional payload, awaited. Like Slack it can ask the app to move to a fresh connection
(`disconnect`, then a close after a grace period); for failure tests it can cut every connection without
a close frame or refuse `apps.connections.open`. Pings get pongs: the SDK judges a connection by them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.standin.api_args import ApiError
from bot.sandbox.standin.models import JSON

log = logging.getLogger(__name__)

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
CloseReason = Literal["app", "dropped", "refreshed", "stand-in stopped"]

# Slack says how long a connection is meant to last in `hello`; the SDK only logs it.
APPROXIMATE_CONNECTION_TIME = 18060


@dataclass
class SocketConnection:
    """One WebSocket an app opened with a ticket from `apps.connections.open`."""

    ticket: str
    opened_at: float
    ws: web.WebSocketResponse = field(repr=False)
    transport: asyncio.BaseTransport | None = field(default=None, repr=False)
    received: list[JSON] = field(default_factory=list)  # every JSON message the app sent, in order
    closed_at: float | None = None
    close_reason: CloseReason | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def mark_closed(self, reason: CloseReason) -> None:
        if self.closed_at is None:
            self.closed_at = time.time()
            self.close_reason = reason


@dataclass
class Delivery:
    """What became of one envelope pushed to the app."""

    envelope: JSON
    acked: bool
    ack: JSON | None = None  # the app's whole acknowledgement message
    elapsed: float = 0.0
    error: str | None = None  # "dispatch_failed" (no connection, or it died) or "operation_timeout"

    @property
    def payload(self) -> JSON | None:
        """The ack's payload: what the app answered (ephemeral text, `response_action`, ...), if anything."""
        if self.ack is None or not isinstance(self.ack.get("payload"), dict):
            return None
        payload: JSON = self.ack["payload"]
        return payload


class _ConnectionLost(Exception):
    pass


class SocketModePeer:
    """The Socket Mode endpoint of a `SlackStandIn`: tickets, live connections, envelopes and acks."""

    def __init__(self, *, app_id: str, ws_base: Callable[[], str]) -> None:
        self._app_id = app_id
        self._ws_base = ws_base
        self.connections: list[SocketConnection] = []
        self.refusing: str | None = None  # an error code apps.connections.open answers with while set
        self._tickets: dict[str, float] = {}
        self._pending: dict[str, tuple[SocketConnection, asyncio.Future[JSON]]] = {}
        self._closers: set[asyncio.Task[None]] = set()
        self._stopping = False

    # ---- the Web API method ---------------------------------------------------------------------------------

    def connections_open(self, args: JSON) -> JSON:
        """`apps.connections.open` (the token was already checked): a URL for one WebSocket connection."""
        if self.refusing is not None:
            raise ApiError(self.refusing)
        ticket = secrets.token_hex(12)
        self._tickets[ticket] = time.time()
        return {"ok": True, "url": f"{self._ws_base()}/socket/{ticket}"}

    # ---- the WebSocket endpoint -----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.match_info["ticket"]
        if self._stopping:
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        if self._tickets.pop(ticket, None) is None:
            # Each URL is good for one connection; an unknown or used one is refused at the handshake.
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=404)
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        connection = SocketConnection(ticket, time.time(), ws, request.transport)
        self.connections.append(connection)
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": len(self.live()),
                        "debug_info": {
                            "host": "standin",
                            "build_number": 1,
                            "approximate_connection_time": APPROXIMATE_CONNECTION_TIME,
                        },
                        "connection_info": {"app_id": self._app_id},
                    }
                )
            )
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._received(connection, message.data)
        except (ConnectionError, RuntimeError):
            log.debug("socket %s ended abruptly", ticket)
        finally:
            connection.mark_closed("app")
            self._fail_pending(connection)
        return ws

    def _received(self, connection: SocketConnection, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            log.warning("the app sent something that is not JSON over its socket: %.80r", data)
            return
        if not isinstance(message, dict):
            return
        connection.received.append(message)
        envelope_id = message.get("envelope_id")
        pending = self._pending.get(str(envelope_id)) if envelope_id is not None else None
        # An ack counts on whichever connection it comes back on (the app may have moved to a new one).
        if pending is not None and not pending[1].done():
            pending[1].set_result(message)

    def _fail_pending(self, connection: SocketConnection) -> None:
        if connection.close_reason in ("app", "refreshed"):
            return  # a cleanly closed connection: the app may still ack on its next one
        for sent_on, future in self._pending.values():
            if sent_on is connection and not future.done():
                future.set_exception(_ConnectionLost())

    # ---- what the tests do ----------------------------------------------------------------------------------

    def live(self) -> list[SocketConnection]:
        return [c for c in self.connections if not c.closed and not c.ws.closed]

    async def deliver(
        self, envelope_type: EnvelopeType, payload: JSON, *, accepts_response_payload: bool, wait: float
    ) -> Delivery:
        """Push one envelope over the newest live connection and wait up to `wait` s for its ack."""
        envelope: JSON = {
            "envelope_id": str(uuid.uuid4()),
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        live = self.live()
        if not live:
            return Delivery(envelope, acked=False, error="dispatch_failed")
        connection = live[-1]
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._pending[envelope["envelope_id"]] = (connection, future)
        started = time.perf_counter()
        try:
            await connection.ws.send_str(json.dumps(envelope))
            ack = await asyncio.wait_for(future, wait)
        except TimeoutError:
            return Delivery(envelope, False, elapsed=time.perf_counter() - started, error="operation_timeout")
        except (_ConnectionLost, ConnectionError, RuntimeError):
            return Delivery(envelope, False, elapsed=time.perf_counter() - started, error="dispatch_failed")
        finally:
            self._pending.pop(envelope["envelope_id"], None)
        return Delivery(envelope, True, ack=ack, elapsed=time.perf_counter() - started)

    def drop(self) -> int:
        """Cut every live connection without a close frame (a dead network); returns how many."""
        live = self.live()
        for connection in live:
            connection.mark_closed("dropped")
            if connection.transport is not None:
                connection.transport.abort()  # type: ignore[attr-defined]
            self._fail_pending(connection)
        return len(live)

    async def refresh(self, *, reason: str = "refresh_requested", grace: float = 10.0) -> int:
        """Ask every live connection's app to reconnect (Slack's `disconnect` message), and close those
        connections after `grace` seconds if the app has not closed them itself; returns how many."""
        live = self.live()
        message = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}})
        for connection in live:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.ws.send_str(message)
        if live:
            closer = asyncio.create_task(self._close_later(live, grace), name="standin-socket-refresh")
            self._closers.add(closer)
            closer.add_done_callback(self._closers.discard)
        return len(live)

    async def _close_later(self, connections: list[SocketConnection], grace: float) -> None:
        await asyncio.sleep(grace)
        for connection in connections:
            if not connection.closed:
                connection.mark_closed("refreshed")
                await self._close(connection)

    async def _close(self, connection: SocketConnection) -> None:
        try:
            await asyncio.wait_for(connection.ws.close(code=WSCloseCode.GOING_AWAY), 1.0)
        except (TimeoutError, ConnectionError, RuntimeError):
            if connection.transport is not None:
                connection.transport.abort()  # type: ignore[attr-defined]

    def start(self) -> None:
        self._stopping = False

    async def stop(self) -> None:
        """Refuse new connections and close the open ones (a close frame, as Slack going away)."""
        self._stopping = True
        for closer in list(self._closers):
            closer.cancel()
        for connection in self.live():
            connection.mark_closed("stand-in stopped")
            await self._close(connection)
