"""Modals through the sender and a real (tiny) Bolt app: submissions, errors next to fields, updates,
buttons inside a modal and closing, over signed HTTP and Socket Mode (once per transport)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import MissingRequiredInput, SlackStandIn
from bot.sandbox.standin.sender import Transport
from tests.support.tiny_bolt import FORM


async def open_form(slack: SlackStandIn) -> Any:
    sent = await slack.sender.slash("form", user="U_CAROL")
    assert sent.status == 200
    view = await slack.wait_for(lambda: slack.open_view("U_CAROL"))
    assert slack.calls_to("views.open")[0].args["trigger_id"] == sent.trigger_id
    return view


async def test_view_submission_round_trip(slack: SlackStandIn, tiny_bot: Transport) -> None:
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


async def test_inputs_left_alone_keep_their_initial_value(slack: SlackStandIn, tiny_bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.submit_view(view, {"model": "gpt-4o-mini"})  # short form: block -> value
    assert sent.payload["view"]["state"]["values"]["epochs"]["value"]["value"] == "3"


async def test_errors_are_shown_next_to_the_field(slack: SlackStandIn, tiny_bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.submit_view(view, {"model": "gpt-4o-mini", "epochs": "lots"})
    assert sent.body == {"response_action": "errors", "errors": {"epochs": "Epochs must be a whole number"}}
    still_open = slack.open_view("U_CAROL")
    assert still_open is not None
    assert still_open.errors == {"epochs": "Epochs must be a whole number"}
    assert slack.calls_to("chat.postMessage") == []


async def test_response_action_update_replaces_the_modal(slack: SlackStandIn, tiny_bot: Transport) -> None:
    view = await open_form(slack)
    await slack.sender.submit_view(view, {"model": "gpt-4o-mini", "epochs": "0"})
    current = slack.open_view("U_CAROL")
    assert current is not None
    assert current.view["title"]["text"] == "Really zero?"


async def test_required_inputs_are_checked_like_slack_does(slack: SlackStandIn, tiny_bot: Transport) -> None:
    view = await open_form(slack)
    with pytest.raises(MissingRequiredInput) as caught:
        await slack.sender.submit_view(view, {})
    assert caught.value.block_ids == ["model"]
    with pytest.raises(ValueError, match="not one of the options"):
        await slack.sender.submit_view(view, {"model": "gpt-5-ultra"})
    with pytest.raises(LookupError, match="no input block"):
        await slack.sender.submit_view(view, {"modle": "gpt-4.1"})


async def test_button_inside_a_modal_updates_it(slack: SlackStandIn, tiny_bot: Transport) -> None:
    view = await open_form(slack)
    sent = await slack.sender.click_in_view(view, "add_validation")
    assert sent.status == 200
    assert sent.payload["container"] == {"type": "view", "view_id": view.id}
    assert "response_url" not in sent.payload
    await slack.wait_for(lambda: any(b.get("block_id") == "validation" for b in view.blocks))
    assert slack.calls_to("views.update")[0].args["view_id"] == view.id


async def test_closing_a_modal_tells_the_app_only_when_asked(
    slack: SlackStandIn, tiny_bot: Transport, slack_client: AsyncWebClient
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


async def test_ack_with_invalid_blocks_is_refused_like_slack(
    slack: SlackStandIn, tiny_bot: Transport
) -> None:
    sent = await slack.sender.slash("too long")
    assert sent.status == 200
    [post] = slack.responses
    assert (post.source, post.error) == ("ack", "invalid_blocks")
    assert slack.ephemerals("U_ALICE") == []
