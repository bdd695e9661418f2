"""The sender against a real (tiny) Bolt AsyncApp wired to the stand-in's Web API: slash commands and button
clicks make the full round trip, both over signed HTTP and over Socket Mode (every test taking the
`tiny_bot` fixture runs once per transport), and over HTTP Bolt itself checks the signatures (forged and
stale ones get 401). Modals: `test_standin_bolt_modals.py`."""

from __future__ import annotations

import socket
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.standin import SlackStandIn, sign
from bot.sandbox.standin.sender import Transport
from tests.support.tiny_bolt import CARD_BLOCKS, web_api_calls

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


async def test_forged_signature_is_rejected_by_bolt(slack: SlackStandIn, tiny_http_bot: str) -> None:
    forged = await slack.sender.slash("help", signature="v0=" + "0" * 64)
    assert forged.status == 401
    raw = await slack.sender.signed_post(
        b"command=%2Ffinetune&text=help", signature=sign("wrong-secret", int(time.time()), b"x")
    )
    assert raw.status == 401
    assert slack.responses == []
    assert slack.calls_to("chat.postMessage") == []


async def test_stale_timestamp_is_rejected_by_bolt(slack: SlackStandIn, tiny_http_bot: str) -> None:
    stale = int(time.time()) - 600
    sent = await slack.sender.slash("help", timestamp=stale)  # correctly signed, but 10 minutes old
    assert sent.status == 401
    assert slack.responses == []
    # Slack tells the person the command failed.
    assert "dispatch_failed" in slack.ephemerals("U_ALICE")[0].text


# ---- slash commands ----------------------------------------------------------------------------------------


async def test_slash_command_payload_is_what_slack_sends(slack: SlackStandIn, tiny_bot: Transport) -> None:
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


async def test_respond_goes_to_the_response_url(slack: SlackStandIn, tiny_bot: Transport) -> None:
    sent = await slack.sender.slash("hello there")
    assert sent.status == 200
    reply = await slack.wait_for(lambda: slack.ephemerals("U_ALICE"))
    assert reply[0].text == "You said 'hello there'"
    assert reply[0].source == "response_url"
    assert slack.responses[0].response_url_id == sent.response_url_id
    # Bolt called auth.test once, on its first request.
    assert web_api_calls(slack) == ["auth.test"]


async def test_ack_text_is_shown_to_the_person_and_the_card_posted(
    slack: SlackStandIn, tiny_bot: Transport
) -> None:
    sent = await slack.sender.slash("card")
    # Bolt answers a bare ack(text) as text/plain over HTTP, and as the ack's {"text": ...} over a socket.
    assert sent.body == ("Posting the card…" if tiny_bot == "http" else {"text": "Posting the card…"})
    assert [e.text for e in slack.ephemerals("U_ALICE")] == ["Posting the card…"]
    assert slack.ephemerals("U_ALICE")[0].source == "ack"
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    assert card.text == "ftjob-1 is running"
    assert card.blocks == CARD_BLOCKS


async def test_in_channel_ack_shows_the_command_and_the_answer(
    slack: SlackStandIn, tiny_bot: Transport
) -> None:
    await slack.sender.slash("announce", user="U_CAROL")
    command, answer = slack.messages("C_ML")
    assert (command.text, command.user) == ("/finetune announce", "U_CAROL")
    assert (answer.text, answer.bot_id) == ("Hear ye", slack.workspace.bot_id)


# ---- buttons -----------------------------------------------------------------------------------------------


async def test_button_click_round_trip_updates_the_card(slack: SlackStandIn, tiny_bot: Transport) -> None:
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
    slack: SlackStandIn, tiny_bot: Transport
) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    await slack.sender.click(card, "job_cancel")
    await slack.wait_for(lambda: card.text == "cancelled")
    assert slack.responses[-1].body["replace_original"] is True
    assert [m.text for m in slack.messages("C_ML")] == ["cancelled"]


async def test_click_uses_an_overridden_value(slack: SlackStandIn, tiny_bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    await slack.sender.click(card, "job_pause", value="ftjob-9")
    await slack.wait_for(lambda: card.edited)
    assert card.text.startswith("ftjob-9 paused")


async def test_unhandled_click_is_reported_like_slack(slack: SlackStandIn, tiny_bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    slack.sender.timeout = 1.0  # over a socket an unhandled request is never acked: Slack gives up
    sent = await slack.sender.click(card, "unhandled")
    if tiny_bot == "http":
        assert sent.status == 404  # Bolt: no listener acked
    else:
        assert (sent.status, sent.error) == (0, "operation_timeout")
    assert "did not answer" in slack.ephemerals("U_ALICE")[-1].text


async def test_clicking_an_unknown_action_is_a_test_error(slack: SlackStandIn, tiny_bot: Transport) -> None:
    await slack.sender.slash("card")
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    with pytest.raises(LookupError, match="job_pause"):
        await slack.sender.click(card, "job_resume")


async def test_click_on_an_ephemeral_message(slack: SlackStandIn, tiny_bot: Transport) -> None:
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
