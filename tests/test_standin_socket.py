"""The stand-in as Slack's Socket Mode peer: `apps.connections.open` with the app token, the WebSocket's
`hello`, envelopes and acks, dropped and refreshed connections, seen from a raw WebSocket client and from
slack_bolt's own Socket Mode handler."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.socket_watchdog import SocketHandler
from bot.sandbox.standin import SlackStandIn

COMMAND_PAYLOAD = {"command": "/finetune", "text": "help", "user_id": "U_ALICE", "channel_id": "C_ML"}


async def open_url(slack: SlackStandIn, token: str | None = None) -> str:
    client = AsyncWebClient(base_url=slack.api_url)
    answer = await client.apps_connections_open(app_token=token or slack.app_token)
    return str(answer["url"])


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = json.loads(message.data)
    return data


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_connections_open_takes_only_the_configured_app_token(slack: SlackStandIn) -> None:
    async def refusal(token: str | None) -> str:
        client = AsyncWebClient(base_url=slack.api_url)
        call = (
            client.api_call("apps.connections.open")
            if token is None
            else client.apps_connections_open(app_token=token)
        )
        with pytest.raises(SlackApiError) as caught:
            await call
        return str(caught.value.response["error"])

    assert await refusal(None) == "not_authed"
    assert await refusal(slack.bot_token) == "not_allowed_token_type"
    assert await refusal("xapp-1-A_OTHER-9-someone-elses") == "invalid_auth"
    url = await open_url(slack)
    assert re.fullmatch(rf"ws://127\.0\.0\.1:{slack.port}/socket/[0-9a-f]+", url)
    assert [c.error for c in slack.calls_to("apps.connections.open")] == [
        "not_authed",
        "not_allowed_token_type",
        "invalid_auth",
        None,
    ]


async def test_hello_then_an_envelope_and_its_ack(slack: SlackStandIn, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(await open_url(slack), autoping=False) as ws:
        hello = await next_json(ws)
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": slack.workspace.app_id}

        # Pings are answered with the same data: what slack_sdk judges a live connection by.
        await ws.ping(b"sdk-ping-pong:1")
        pong = await asyncio.wait_for(ws.receive(), 5)
        assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"sdk-ping-pong:1")

        sending = asyncio.create_task(
            slack.sender.send_envelope("slash_commands", COMMAND_PAYLOAD, accepts_response_payload=True)
        )
        envelope = await next_json(ws)
        assert set(envelope) == {"envelope_id", "type", "payload", "accepts_response_payload"}
        assert envelope["type"] == "slash_commands"
        assert envelope["payload"] == COMMAND_PAYLOAD
        assert envelope["accepts_response_payload"] is True
        await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "ok"}}))
        sent = await sending
        assert (sent.status, sent.body, sent.error) == (200, {"text": "ok"}, None)
        assert (sent.transport, sent.envelope_id) == ("socket", envelope["envelope_id"])

        # An ack without a payload is still an ack.
        sending = asyncio.create_task(
            slack.sender.send_envelope(
                "interactive", {"type": "block_actions"}, accepts_response_payload=False
            )
        )
        envelope = await next_json(ws)
        assert envelope["accepts_response_payload"] is False
        await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
        sent = await sending
        assert (sent.status, sent.body) == (200, None)
        assert slack.socket_connections[0].received[-1] == {"envelope_id": envelope["envelope_id"]}


async def test_a_url_is_good_for_one_connection(slack: SlackStandIn, http: aiohttp.ClientSession) -> None:
    url = await open_url(slack)
    async with http.ws_connect(url) as ws:
        await next_json(ws)
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect(url)
        assert caught.value.status == 404
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(f"{slack.ws_url}/socket/made-up")
    assert len(slack.socket_connections) == 1


async def test_no_ack_in_time_and_no_connection_are_slack_s_errors(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    slack.sender.transport = "socket"
    sent = await slack.sender.slash("help")
    assert (sent.status, sent.error) == (0, "dispatch_failed")
    assert slack.ephemerals("U_ALICE")[-1].text == '/finetune failed with the error "dispatch_failed"'

    async with http.ws_connect(await open_url(slack)) as ws:
        await next_json(ws)
        slack.sender.timeout = 0.2
        sent = await slack.sender.slash("help")  # the app never acks
        assert (sent.status, sent.error) == (0, "operation_timeout")
        assert (await next_json(ws))["payload"]["text"] == "help"
        assert "operation_timeout" in slack.ephemerals("U_ALICE")[-1].text


async def test_a_dropped_connection_ends_without_a_close_frame(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(await open_url(slack)) as ws:
        await next_json(ws)
        sending = asyncio.create_task(
            slack.sender.send_envelope("slash_commands", COMMAND_PAYLOAD, accepts_response_payload=True)
        )
        await next_json(ws)
        assert slack.drop_socket_connections() == 1
        sent = await asyncio.wait_for(sending, 5)  # the envelope in flight fails at once
        assert (sent.status, sent.error) == (0, "dispatch_failed")
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)  # no CLOSE: no code
    (connection,) = slack.socket_connections
    assert (connection.closed, connection.close_reason) == (True, "dropped")
    assert slack.live_socket_connections() == []


async def test_refresh_asks_the_app_to_reconnect_and_closes_the_old_connection(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(await open_url(slack)) as ws:
        await next_json(ws)
        assert await slack.refresh_socket_connections(grace=0.2) == 1
        assert await next_json(ws) == {
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "standin"},
        }
        closing = await asyncio.wait_for(ws.receive(), 5)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
    await slack.wait_for(lambda: slack.socket_connections[0].closed)
    assert slack.socket_connections[0].close_reason == "refreshed"


async def test_refused_connections_open_until_allowed_again(slack: SlackStandIn) -> None:
    slack.refuse_socket_connections("internal_error")
    with pytest.raises(SlackApiError) as caught:
        await open_url(slack)
    assert caught.value.response["error"] == "internal_error"
    slack.refuse_socket_connections(None)
    assert (await open_url(slack)).startswith(slack.ws_url)


async def test_stopping_the_stand_in_closes_its_sockets(http: aiohttp.ClientSession) -> None:
    slack = SlackStandIn()
    await slack.start()
    try:
        ws = await http.ws_connect(await open_url(slack))
        await next_json(ws)
    finally:
        await slack.stop()
    closing = await asyncio.wait_for(ws.receive(), 5)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
    assert slack.socket_connections[0].close_reason == "stand-in stopped"


async def test_socket_mode_stand_in_sends_over_the_socket() -> None:
    async with SlackStandIn(socket_mode=True) as slack:
        assert slack.sender.transport == "socket"
        with pytest.raises(ValueError, match="not signed"):
            await slack.sender.slash("help", timestamp=0)


async def test_bolt_moves_to_a_new_connection_when_asked_and_commands_keep_flowing(
    slack: SlackStandIn,
) -> None:
    app = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))

    @app.command("/finetune")
    async def answer(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(f"you said {command['text']}")

    handler: SocketHandler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()
    slack.sender.transport = "socket"
    try:
        first = await slack.wait_for_socket_connections(1)
        assert (await slack.sender.slash("one")).body == {"text": "you said one"}

        await slack.refresh_socket_connections(grace=30)
        second = await slack.wait_for_socket_connections(2)
        assert second is not first
        # The SDK closes the old connection itself once the new one is up, well within Slack's grace.
        await slack.wait_for(lambda: first.closed)
        assert first.close_reason == "app"
        assert len(slack.calls_to("apps.connections.open")) == 2

        assert (await slack.sender.slash("two")).body == {"text": "you said two"}
        assert [e.text for e in slack.ephemerals("U_ALICE")] == ["you said one", "you said two"]
    finally:
        await handler.close_async()
    await slack.wait_for(lambda: not slack.live_socket_connections())
