"""The Socket Mode watchdog against the Slack stand-in's Socket Mode side: a dropped connection comes back,
a healthy one is left alone, a refusing Slack is retried until it answers."""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.socket_watchdog import SocketWatchdog
from bot.ops.metrics import REGISTRY
from bot.sandbox.standin import SentRequest, SlackStandIn


def _app(slack: SlackStandIn) -> AsyncApp:
    app = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))

    @app.command("/finetune")
    async def answer(ack: AsyncAck) -> None:
        await ack("pong")

    return app


def _watchdog(app: AsyncApp, slack: SlackStandIn, **options: float) -> SocketWatchdog:
    # A long SDK ping interval keeps the SDK's own recovery out of the way: what reconnects is the watchdog.
    return SocketWatchdog(
        lambda: AsyncSocketModeHandler(app, slack.app_token, ping_interval=60),
        interval=options.get("interval", 0.05),
        max_failures=int(options.get("max_failures", 3)),
        connect_timeout=options.get("connect_timeout", 5.0),
    )


async def _command_round_trip(slack: SlackStandIn) -> SentRequest:
    """`/finetune help` over the socket; the app's ack must come back on it."""
    sent = await slack.sender.slash("help")
    assert (sent.status, sent.body) == (200, {"text": "pong"}), sent
    acks = [
        m for c in slack.socket_connections for m in c.received if m.get("envelope_id") == sent.envelope_id
    ]
    assert acks == [{"envelope_id": sent.envelope_id, "payload": {"text": "pong"}}]
    return sent


def _opened(slack: SlackStandIn) -> int:
    return len(slack.calls_to("apps.connections.open"))


async def _until_connected(watchdog: SocketWatchdog, expected: bool) -> None:
    for _ in range(500):
        if await watchdog.is_connected() is expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the connection never became {'up' if expected else 'down'}")


def _reconnects(outcome: str) -> float:
    return REGISTRY.get_sample_value("tuneops_socket_reconnects_total", {"outcome": outcome}) or 0.0


async def test_dropped_connection_is_re_established_and_commands_flow_again(
    socket_slack: SlackStandIn,
) -> None:
    watchdog = _watchdog(_app(socket_slack), socket_slack)
    before = _reconnects("ok")
    assert await watchdog.start()
    try:
        await _command_round_trip(socket_slack)

        assert socket_slack.drop_socket_connections() == 1
        await socket_slack.wait_for_socket_connections(2)
        # The new connection is only usable once the watchdog has swapped in its handler.
        await _until_connected(watchdog, True)

        await _command_round_trip(socket_slack)
        assert watchdog.reconnects == 1
        assert _opened(socket_slack) == 2
        assert [c.close_reason for c in socket_slack.socket_connections] == ["dropped", None]
        assert _reconnects("ok") == before + 1
    finally:
        await watchdog.stop()


async def test_a_healthy_connection_is_left_alone(socket_slack: SlackStandIn) -> None:
    watchdog = _watchdog(_app(socket_slack), socket_slack, interval=3600)
    assert await watchdog.start()
    try:
        for _ in range(5):
            assert await watchdog.check()
        assert _opened(socket_slack) == 1
        assert len(socket_slack.socket_connections) == 1
        assert watchdog.reconnects == 0
    finally:
        await watchdog.stop()


async def test_keeps_trying_while_slack_refuses_then_recovers(socket_slack: SlackStandIn) -> None:
    watchdog = _watchdog(_app(socket_slack), socket_slack, interval=3600, max_failures=2, connect_timeout=0.3)
    assert await watchdog.start()
    try:
        socket_slack.refuse_socket_connections("invalid_auth")
        socket_slack.drop_socket_connections()
        await _until_connected(watchdog, False)
        failed_before = _reconnects("failed")

        assert not await watchdog.check()  # first "down": not yet
        assert _opened(socket_slack) == 1
        assert not await watchdog.check()  # second: reconnect, refused
        assert not await watchdog.check()  # still down: tries again
        assert _reconnects("failed") == failed_before + 2
        assert not await watchdog.is_connected()
        assert _opened(socket_slack) >= 3
        assert {c.error for c in socket_slack.calls_to("apps.connections.open")[1:]} == {"invalid_auth"}

        socket_slack.refuse_socket_connections(None)
        assert await watchdog.check()
        assert await watchdog.is_connected()
        await _command_round_trip(socket_slack)
    finally:
        await watchdog.stop()


async def test_first_connection_failure_is_not_fatal(socket_slack: SlackStandIn) -> None:
    socket_slack.refuse_socket_connections("invalid_auth")
    watchdog = _watchdog(_app(socket_slack), socket_slack, interval=0.05, max_failures=1, connect_timeout=0.3)
    assert not await watchdog.start()
    try:
        socket_slack.refuse_socket_connections(None)
        await socket_slack.wait_for_socket_connections(1)
        await _until_connected(watchdog, True)
        await _command_round_trip(socket_slack)
    finally:
        await watchdog.stop()
