"""Fixtures for the operations tests: a fake Slack Socket Mode server, subprocess helpers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web


class FakeSocketModeSlack:
    """The parts of Slack a Socket Mode app talks to: `auth.test`, `apps.connections.open`, the WebSocket.

    Each WebSocket gets Slack's `hello` message; the test can push envelopes, read the app's acks and drop
    every connection abruptly (no close frame, as a network failure would).
    """

    def __init__(self) -> None:
        self.connections: list[web.WebSocketResponse] = []
        self._transports: list[asyncio.BaseTransport] = []
        self.opened = 0  # apps.connections.open calls
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.refuse_open = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.connected = asyncio.Condition()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/auth.test", self._auth_test)
        app.router.add_post("/api/apps.connections.open", self._connections_open)
        app.router.add_get("/link", self._websocket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/"
        self._ws_url = f"ws://127.0.0.1:{port}/link"
        return self.base_url

    async def stop(self) -> None:
        for ws in self.connections:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _auth_test(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T1",
                "team": "Test",
                "user": "tuneops",
            }
        )

    async def _connections_open(self, request: web.Request) -> web.Response:
        self.opened += 1
        if self.refuse_open:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response({"ok": True, "url": self._ws_url})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        if request.transport is not None:
            self._transports.append(request.transport)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self.connections)}))
        async with self.connected:
            self.connected.notify_all()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await self.acks.put(json.loads(message.data))
        return ws

    async def wait_for_connections(self, count: int) -> None:
        async with asyncio.timeout(10), self.connected:
            await self.connected.wait_for(lambda: len(self.connections) >= count)

    def drop_all(self) -> None:
        """Cut every connection without a close frame, as a dead network would."""
        for transport in self._transports:
            transport.abort()  # type: ignore[attr-defined]
        self._transports.clear()

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        await self.connections[-1].send_str(json.dumps(envelope))


@pytest.fixture
async def fake_socket_slack() -> AsyncIterator[FakeSocketModeSlack]:
    fake = FakeSocketModeSlack()
    await fake.start()
    yield fake
    await fake.stop()
