"""The sender against a real (tiny) Bolt AsyncApp wired to the stand-in's Web API: slash commands, button
clicks and modal submissions make the full round trip, both over signed HTTP and over Socket Mode (every
test taking the `bot` fixture runs once per transport), and over HTTP Bolt itself checks the signatures
(forged and stale ones get 401)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.socket_watchdog import SocketHandler
from bot.sandbox.standin import MissingRequiredInput, SlackStandIn, sign
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
async def http_bot(slack: SlackStandIn) -> AsyncIterator[str]:
    runner = await serve_over_http(slack)
    assert slack.bot_url is not None
    yield slack.bot_url
    await runner.cleanup()


@pytest.fixture(params=TRANSPORTS)
async def bot(request: pytest.FixtureRequest, slack: SlackStandIn) -> AsyncIterator[Transport]:
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


# ---- signatures ------------------------------------------------------------------------------------------


def test_signatures_verify_with_slack_sdk() -> None:
    body = b"token=x&command=%2Ffinetune&text=help"
    now = int(time.time())
    verifier = SignatureVerifier("standin-secret")
    assert verifier.is_valid(body=body, timestamp=str(now), signature=sign("standin-secret", now, body))
    assert not verifier.is_valid(body=body, timestamp=str(now), signature=sign("other-secret", now, body))
    stale = now - 600
    assert not verifier.is_valid(
        body=body, timestamp=str(stale), signature=sign("standin-secret", stale, body)
    )


async def test_forged_signature_is_rejected_by_bolt(slack: SlackStandIn, http_bot: str) -> None:
    forged = await slack.sender.slash("help", signature="v0=" + "0" * 64)
    assert forged.status == 401
    raw = await slack.sender.signed_post(
        b"command=%2Ffinetune&text=help", signature=sign("wrong-secret", int(time.time()), b"x")
    )
    assert raw.status == 401
    assert slack.responses == []
    assert slack.calls_to("chat.postMessage") == []


async def test_stale_timestamp_is_rejected_by_bolt(slack: SlackStandIn, http_bot: str) -> None:
    stale = int(time.time()) - 600
    sent = await slack.sender.slash("help", timestamp=stale)  # correctly signed, but 10 minutes old
    assert sent.status == 401
    assert slack.responses == []
    # Slack tells the person the command failed.
    assert "dispatch_failed" in slack.ephemerals("U_ALICE")[0].text


# ---- slash commands ----------------------------------------------------------------------------------------


async def test_slash_command_payload_is_what_slack_sends(slack: SlackStandIn, bot: Transport) -> None:
    sent = await slack.sender.slash("status ftjob-1", user="U_BOB", channel="C_GENERAL")
    assert sent.status == 200
    payload = sent.payload
    assert payload["command"] == "/finetune"
    assert payload["text"] == "status ftjob-1"
    assert (payload["user_id"], payload["user_name"]) == ("U_BOB", "bob")
    assert (payload["channel_id"], payload["channel_name"]) == ("C_GENERAL", "general")
    assert payload["team_id"] == "T_STANDIN"
    assert payload["response_url"] == slack.response_url(sent.response_url_id or "")
    assert payload["trigger_id"] == sent.trigger_id
    for key in ("token", "team_domain", "api_app_id"):
        assert payload[key]


async def test_respond_goes_to_the_response_url(slack: SlackStandIn, bot: Transport) -> None:
    sent = await slack.sender.slash("hello there")
    assert sent.status == 200
    reply = await slack.wait_for(lambda: slack.ephemerals("U_ALICE"))
    assert reply[0].text == "You said 'hello there'"
    assert reply[0].source == "response_url"
    assert slack.responses[0].response_url_id == sent.response_url_id
    # Bolt called auth.test once, on its first request.
    assert web_api_calls(slack) == ["auth.test"]


async def test_ack_text_is_shown_to_the_person_and_the_card_posted(
    slack: SlackStandIn, bot: Transport
) -> None:
    sent = await slack.sender.slash("card")
    # Bolt answers a bare ack(text) as text/plain over HTTP, and as the ack's {"text": ...} over a socket.
    assert sent.body == ("Posting the card…" if bot == "http" else {"text": "Posting the card…"})
    assert [e.text for e in slack.ephemerals("U_ALICE")] == ["Posting the card…"]
    assert slack.ephemerals("U_ALICE")[0].source == "ack"
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    assert card.text == "ftjob-1 is running"
    assert card.blocks == CARD_BLOCKS


async def test_in_channel_ack_shows_the_command_and_the_answer(slack: SlackStandIn, bot: Transport) -> None:
    await slack.sender.slash("announce", user="U_CAROL")
    command, answer = slack.messages("C_ML")
    assert (command.text, command.user) == ("/finetune announce", "U_CAROL")
    assert (answer.text, answer.bot_id) == ("Hear ye", slack.workspace.bot_id)


# ---- buttons -----------------------------------------------------------------------------------------------


async def test_button_click_round_trip_updates_the_card(slack: SlackStandIn, bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    sent = await slack.sender.click(card, "job_pause", user="U_BOB")
    assert sent.status == 200
    payload = sent.payload
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": "C_ML",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == card.ts
    assert payload["message"]["blocks"] == CARD_BLOCKS
    assert payload["channel"] == {"id": "C_ML", "name": "ml-team"}
    [action] = payload["actions"]
    assert {k: action[k] for k in ("action_id", "block_id", "value", "type")} == {
        "action_id": "job_pause",
        "block_id": "buttons",
        "value": "ftjob-1",
        "type": "button",
    }
    assert action["text"]["text"] == "Pause"
    await slack.wait_for(lambda: card.edited)
    assert card.text == "ftjob-1 paused by <@U_BOB>"
    assert slack.calls_to("chat.update")[0].args["ts"] == card.ts


async def test_confirmed_cancel_replaces_the_original_through_respond(
    slack: SlackStandIn, bot: Transport
) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    await slack.sender.click(card, "job_cancel")
    await slack.wait_for(lambda: card.text == "cancelled")
    assert slack.responses[-1].body["replace_original"] is True
    assert [m.text for m in slack.messages("C_ML")] == ["cancelled"]


async def test_click_uses_an_overridden_value(slack: SlackStandIn, bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    await slack.sender.click(card, "job_pause", value="ftjob-9")
    await slack.wait_for(lambda: card.edited)
    assert card.text.startswith("ftjob-9 paused")


async def test_unhandled_click_is_reported_like_slack(slack: SlackStandIn, bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    slack.sender.timeout = 1.0  # over a socket an unhandled request is never acked: Slack gives up
    sent = await slack.sender.click(card, "unhandled")
    if bot == "http":
        assert sent.status == 404  # Bolt: no listener acked
    else:
        assert (sent.status, sent.error) == (0, "operation_timeout")
    assert "did not answer" in slack.ephemerals("U_ALICE")[-1].text


async def test_clicking_an_unknown_action_is_a_test_error(slack: SlackStandIn, bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    with pytest.raises(LookupError, match="job_pause"):
        await slack.sender.click(card, "job_resume")


async def test_click_on_an_ephemeral_message(slack: SlackStandIn, bot: Transport) -> None:
    note = slack.workspace.post_ephemeral(
        "C_ML", "U_ALICE", text="card", blocks=CARD_BLOCKS, source="chat.postEphemeral"
    )
    sent = await slack.sender.click(note, "job_cancel")
    assert sent.payload["container"]["is_ephemeral"] is True
    assert "message" not in sent.payload  # Slack does not send ephemeral messages back
    await slack.wait_for(lambda: note.text == "cancelled")


async def test_bot_down_is_dispatch_failed(slack: SlackStandIn) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    slack.set_bot_url(f"http://127.0.0.1:{port}/slack/events")
    sent = await slack.sender.slash("help")
    assert (sent.status, sent.error) == (0, "dispatch_failed")
    assert slack.ephemerals("U_ALICE")[0].text == '/finetune failed with the error "dispatch_failed"'


async def test_sender_needs_a_bot_url(slack: SlackStandIn) -> None:
    with pytest.raises(RuntimeError, match="set_bot_url"):
        await slack.sender.slash("help")


# ---- modals ------------------------------------------------------------------------------------------------


async def open_form(slack: SlackStandIn) -> Any:
    sent = await slack.sender.slash("form", user="U_CAROL")
    assert sent.status == 200
    view = await slack.wait_for(lambda: slack.open_view("U_CAROL"))
    assert slack.calls_to("views.open")[0].args["trigger_id"] == sent.trigger_id
    return view


async def test_view_submission_round_trip(slack: SlackStandIn, bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.submit_view(view, {"model": {"value": "gpt-4.1"}, "epochs": {"value": "4"}})
    assert sent.status == 200
    state = sent.payload["view"]["state"]["values"]
    assert state["model"]["value"]["type"] == "static_select"
    assert state["model"]["value"]["selected_option"]["value"] == "gpt-4.1"
    assert state["epochs"]["value"] == {"type": "plain_text_input", "value": "4"}
    assert sent.payload["view"]["callback_id"] == "create_job"
    assert sent.payload["view"]["private_metadata"] == "C_ML"
    assert slack.open_view("U_CAROL") is None  # an empty ack closes the modal
    [message] = await slack.wait_for(lambda: slack.messages("C_ML"))
    assert message.text == "<@U_CAROL> started gpt-4.1 for 4 epochs"


async def test_inputs_left_alone_keep_their_initial_value(slack: SlackStandIn, bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.submit_view(view, {"model": "gpt-4o-mini"})  # short form: block -> value
    assert sent.payload["view"]["state"]["values"]["epochs"]["value"]["value"] == "3"


async def test_errors_are_shown_next_to_the_field(slack: SlackStandIn, bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.submit_view(view, {"model": "gpt-4o-mini", "epochs": "lots"})
    assert sent.body == {"response_action": "errors", "errors": {"epochs": "Epochs must be a whole number"}}
    still_open = slack.open_view("U_CAROL")
    assert still_open is not None
    assert still_open.errors == {"epochs": "Epochs must be a whole number"}
    assert slack.calls_to("chat.postMessage") == []


async def test_response_action_update_replaces_the_modal(slack: SlackStandIn, bot: Transport) -> None:
    view = await open_form(slack)
    await slack.sender.submit_view(view, {"model": "gpt-4o-mini", "epochs": "0"})
    current = slack.open_view("U_CAROL")
    assert current is not None
    assert current.view["title"]["text"] == "Really zero?"


async def test_required_inputs_are_checked_like_slack_does(slack: SlackStandIn, bot: Transport) -> None:
    view = await open_form(slack)
    with pytest.raises(MissingRequiredInput) as caught:
        await slack.sender.submit_view(view, {})
    assert caught.value.block_ids == ["model"]
    with pytest.raises(ValueError, match="not one of the options"):
        await slack.sender.submit_view(view, {"model": "gpt-5-ultra"})
    with pytest.raises(LookupError, match="no input block"):
        await slack.sender.submit_view(view, {"modle": "gpt-4.1"})


async def test_button_inside_a_modal_updates_it(slack: SlackStandIn, bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.click_in_view(view, "add_validation")
    assert sent.status == 200
    assert sent.payload["container"] == {"type": "view", "view_id": view.id}
    assert "response_url" not in sent.payload
    await slack.wait_for(lambda: any(b.get("block_id") == "validation" for b in view.blocks))
    assert slack.calls_to("views.update")[0].args["view_id"] == view.id


async def test_closing_a_modal_tells_the_app_only_when_asked(
    slack: SlackStandIn, bot: Transport, slack_client: AsyncWebClient
) -> None:
    await slack_client.views_open(trigger_id=slack.workspace.issue_trigger("U_BOB"), view=FORM)
    quiet = slack.open_view("U_BOB")
    assert quiet is not None
    assert await slack.sender.close_view(quiet) is None
    assert slack.open_view("U_BOB") is None

    await slack_client.views_open(
        trigger_id=slack.workspace.issue_trigger("U_BOB"), view={**FORM, "notify_on_close": True}
    )
    told = slack.open_view("U_BOB")
    assert told is not None
    sent = await slack.sender.close_view(told)
    assert sent is not None
    assert sent.status == 200
    assert sent.payload["type"] == "view_closed"
    assert slack.open_view("U_BOB") is None
    [message] = await slack.wait_for(lambda: slack.messages("C_ML"))
    assert message.text == "<@U_BOB> closed the form"


async def test_ack_with_invalid_blocks_is_refused_like_slack(slack: SlackStandIn, bot: Transport) -> None:
    sent = await slack.sender.slash("too long")
    assert sent.status == 200
    [post] = slack.responses
    assert (post.source, post.error) == ("ack", "invalid_blocks")
    assert slack.ephemerals("U_ALICE") == []
