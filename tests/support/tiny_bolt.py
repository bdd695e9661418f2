"""A tiny Bolt `AsyncApp` wired to the stand-in's Web API, for the stand-in's own tests: it answers a slash
command, card buttons and a modal the way the real bot's listeners would. `tiny_bot` serves it over signed
HTTP and over Socket Mode (a test taking it runs once per transport); `tiny_http_bot` over HTTP only."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.socket_watchdog import SocketHandler
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.standin.sender import TRANSPORTS, Transport

CARD_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "*ftjob-1* is running"}},
    {
        "type": "actions",
        "block_id": "buttons",
        "elements": [
            {
                "type": "button",
                "action_id": "job_pause",
                "text": {"type": "plain_text", "text": "Pause"},
                "value": "ftjob-1",
            },
            {
                "type": "button",
                "action_id": "job_cancel",
                "style": "danger",
                "text": {"type": "plain_text", "text": "Cancel"},
                "value": "ftjob-1",
                "confirm": {
                    "title": {"type": "plain_text", "text": "Cancel the job?"},
                    "text": {"type": "mrkdwn", "text": "This cannot be undone."},
                    "confirm": {"type": "plain_text", "text": "Cancel job"},
                    "deny": {"type": "plain_text", "text": "Keep it"},
                    "style": "danger",
                },
            },
            {
                "type": "button",
                "action_id": "unhandled",
                "text": {"type": "plain_text", "text": "Nobody listens"},
            },
        ],
    },
]

FORM: dict[str, Any] = {
    "type": "modal",
    "callback_id": "create_job",
    "private_metadata": "C_ML",
    "title": {"type": "plain_text", "text": "New fine-tune"},
    "submit": {"type": "plain_text", "text": "Start"},
    "blocks": [
        {
            "type": "input",
            "block_id": "model",
            "label": {"type": "plain_text", "text": "Base model"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "GPT-4o mini"}, "value": "gpt-4o-mini"},
                    {"text": {"type": "plain_text", "text": "GPT-4.1"}, "value": "gpt-4.1"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "epochs",
            "optional": True,
            "label": {"type": "plain_text", "text": "Epochs"},
            "element": {"type": "plain_text_input", "action_id": "value", "initial_value": "3"},
        },
        {
            "type": "actions",
            "block_id": "more",
            "elements": [
                {
                    "type": "button",
                    "action_id": "add_validation",
                    "text": {"type": "plain_text", "text": "Add validation"},
                }
            ],
        },
    ],
}


def tiny_app(slack: SlackStandIn) -> AsyncApp:
    """The smallest Bolt app that exercises what TuneOps does: ack, respond, post, update, open a modal."""
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        signing_secret=slack.signing_secret,
    )

    @app.command("/finetune")
    async def command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        text = command["text"]
        if text == "form":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=FORM)
        elif text == "card":
            await ack(text="Posting the card…")
            await client.chat_postMessage(
                channel=command["channel_id"], text="ftjob-1 is running", blocks=CARD_BLOCKS
            )
        elif text == "too long":
            await ack(blocks=[{"type": "divider"}] * 51)
        elif text == "announce":
            await ack(text="Hear ye", response_type="in_channel")
        else:
            await ack()
            await respond(f"You said {text!r}")

    @app.action("job_pause")
    async def pause(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["container"]["message_ts"],
            text=f"{body['actions'][0]['value']} paused by <@{body['user']['id']}>",
            blocks=[],
        )

    @app.action("job_cancel")
    async def cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="cancelled", replace_original=True)

    @app.action("add_validation")
    async def add_validation(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = {k: FORM[k] for k in ("type", "callback_id", "private_metadata", "title", "submit")}
        extra = {
            "type": "input",
            "block_id": "validation",
            "label": {"type": "plain_text", "text": "Validation file"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
        await client.views_update(
            view_id=body["view"]["id"],
            hash=body["view"]["hash"],
            view={**view, "blocks": [*FORM["blocks"], extra]},
        )

    @app.view_closed("create_job")
    async def closed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel="C_ML", text=f"<@{body['user']['id']}> closed the form")

    @app.view("create_job")
    async def submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = view["state"]["values"]
        model = values["model"]["value"]["selected_option"]["value"]
        epochs = values["epochs"]["value"]["value"]
        if epochs is not None and not epochs.isdigit():
            await ack(response_action="errors", errors={"epochs": "Epochs must be a whole number"})
            return
        if epochs == "0":
            await ack(
                response_action="update",
                view={**FORM, "title": {"type": "plain_text", "text": "Really zero?"}},
            )
            return
        await ack()
        await client.chat_postMessage(
            channel=view["private_metadata"],
            text=f"<@{body['user']['id']}> started {model} for {epochs} epochs",
        )

    return app


async def serve_over_http(slack: SlackStandIn) -> web.AppRunner:
    """The tiny Bolt app served over real HTTP on port 0; the stand-in sends to it."""
    runner = web.AppRunner(tiny_app(slack).web_app(path="/slack/events"))
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    slack.set_bot_url(f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events")
    return runner


@pytest.fixture
async def tiny_http_bot(slack: SlackStandIn) -> AsyncIterator[str]:
    runner = await serve_over_http(slack)
    assert slack.bot_url is not None
    yield slack.bot_url
    await runner.cleanup()


@pytest.fixture(params=TRANSPORTS)
async def tiny_bot(request: pytest.FixtureRequest, slack: SlackStandIn) -> AsyncIterator[Transport]:
    """The tiny Bolt app, reached over HTTP or over Socket Mode (connected to the stand-in with its app
    token); the sender uses the same transport."""
    transport: Transport = request.param
    if transport == "http":
        runner = await serve_over_http(slack)
        yield transport
        await runner.cleanup()
        return
    handler: SocketHandler = AsyncSocketModeHandler(tiny_app(slack), slack.app_token)
    await handler.connect_async()
    await slack.wait_for_socket_connections(1)
    slack.sender.transport = "socket"
    yield transport
    await handler.close_async()


def web_api_calls(slack: SlackStandIn) -> list[str]:
    """The Web API methods called, without Socket Mode's own `apps.connections.open`."""
    return [c.method for c in slack.calls if c.method != "apps.connections.open"]
