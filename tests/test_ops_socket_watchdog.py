"""The Socket Mode watchdog against a local WebSocket server that behaves like Slack's."""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import REGISTRY
from bot.socket_watchdog import SocketWatchdog
from tests.support.ops import OPS_BOT_TOKEN, FakeSocketModeSlack


def _app(fake: FakeSocketModeSlack) -> AsyncApp:
    app = AsyncApp(client=AsyncWebClient(token=OPS_BOT_TOKEN, base_url=fake.base_url))

    @app.command("/finetune")
    async def answer(ack: AsyncAck) -> None:
        await ack("pong")

    return app


def _watchdog(app: AsyncApp, **options: float) -> SocketWatchdog:
    # A long SDK ping interval keeps the SDK's own recovery out of the way: what reconnects is the watchdog.
    return SocketWatchdog(
        lambda: AsyncSocketModeHandler(app, "xapp-1-test", ping_interval=60),
        interval=options.get("interval", 0.05),
        max_failures=int(options.get("max_failures", 3)),
        connect_timeout=options.get("connect_timeout", 5.0),
    )


async def _command_round_trip(fake: FakeSocketModeSlack, envelope_id: str) -> dict[str, object]:
    await fake.send_envelope(
        {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/finetune",
                "text": "help",
                "user_id": "U1",
                "channel_id": "C1",
                "team_id": "T1",
                "trigger_id": "1.2.3",
                "response_url": fake.base_url + "response",
            },
        }
    )
    return await asyncio.wait_for(fake.acks.get(), 10)


async def _until_connected(watchdog: SocketWatchdog, expected: bool) -> None:
    for _ in range(500):
        if await watchdog.is_connected() is expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the connection never became {'up' if expected else 'down'}")


def _reconnects(outcome: str) -> float:
    return REGISTRY.get_sample_value("tuneops_socket_reconnects_total", {"outcome": outcome}) or 0.0


async def test_dropped_connection_is_re_established_and_commands_flow_again(
    fake_socket_slack: FakeSocketModeSlack,
) -> None:
    app = _app(fake_socket_slack)
    watchdog = _watchdog(app)
    before = _reconnects("ok")
    assert await watchdog.start()
    try:
        ack = await _command_round_trip(fake_socket_slack, "env-1")
        assert ack == {"envelope_id": "env-1", "payload": {"text": "pong"}}

        fake_socket_slack.drop_all()
        await fake_socket_slack.wait_for_connections(2)
        # The new connection is only usable once the watchdog has swapped in its handler.
        await _until_connected(watchdog, True)

        ack = await _command_round_trip(fake_socket_slack, "env-2")
        assert ack == {"envelope_id": "env-2", "payload": {"text": "pong"}}
        assert watchdog.reconnects == 1
        assert fake_socket_slack.opened == 2
        assert _reconnects("ok") == before + 1
    finally:
        await watchdog.stop()


async def test_a_healthy_connection_is_left_alone(fake_socket_slack: FakeSocketModeSlack) -> None:
    watchdog = _watchdog(_app(fake_socket_slack), interval=3600)
    assert await watchdog.start()
    try:
        for _ in range(5):
            assert await watchdog.check()
        assert fake_socket_slack.opened == 1
        assert len(fake_socket_slack.connections) == 1
        assert watchdog.reconnects == 0
    finally:
        await watchdog.stop()


async def test_keeps_trying_while_slack_refuses_then_recovers(fake_socket_slack: FakeSocketModeSlack) -> None:
    watchdog = _watchdog(_app(fake_socket_slack), interval=3600, max_failures=2, connect_timeout=0.3)
    assert await watchdog.start()
    try:
        fake_socket_slack.refuse_open = True
        fake_socket_slack.drop_all()
        await _until_connected(watchdog, False)
        failed_before = _reconnects("failed")

        assert not await watchdog.check()  # first "down": not yet
        assert fake_socket_slack.opened == 1
        assert not await watchdog.check()  # second: reconnect, refused
        assert not await watchdog.check()  # still down: tries again
        assert _reconnects("failed") == failed_before + 2
        assert not await watchdog.is_connected()

        fake_socket_slack.refuse_open = False
        assert await watchdog.check()
        assert await watchdog.is_connected()
        await _command_round_trip(fake_socket_slack, "env-3")
    finally:
        await watchdog.stop()


async def test_first_connection_failure_is_not_fatal(fake_socket_slack: FakeSocketModeSlack) -> None:
    fake_socket_slack.refuse_open = True
    watchdog = _watchdog(_app(fake_socket_slack), interval=0.05, max_failures=1, connect_timeout=0.3)
    assert not await watchdog.start()
    try:
        fake_socket_slack.refuse_open = False
        await fake_socket_slack.wait_for_connections(1)
        await _until_connected(watchdog, True)
        ack = await _command_round_trip(fake_socket_slack, "env-4")
        assert ack["envelope_id"] == "env-4"
    finally:
        await watchdog.stop()
