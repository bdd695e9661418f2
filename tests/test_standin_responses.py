"""The response_url sink, posted to by slack_sdk's AsyncWebhookClient (what Bolt's respond() uses)."""

from __future__ import annotations

import httpx
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.standin import SlackStandIn


def hook(slack: SlackStandIn, **target: str) -> AsyncWebhookClient:
    registered = slack.workspace.register_response_url(target.pop("channel", "C_ML"), "U_ALICE", **target)
    return AsyncWebhookClient(slack.response_url(registered.id))


async def test_ephemeral_by_default(slack: SlackStandIn) -> None:
    answer = await hook(slack).send(text="Only you can see this")
    assert answer.status_code == 200
    [ephemeral] = slack.ephemerals("U_ALICE")
    assert (ephemeral.text, ephemeral.source, ephemeral.channel) == (
        "Only you can see this",
        "response_url",
        "C_ML",
    )
    assert slack.messages("C_ML") == []
    [post] = slack.responses
    assert post.status == 200
    assert post.response_type == "ephemeral"


async def test_in_channel_posts_as_the_app(slack: SlackStandIn) -> None:
    await hook(slack).send(text="Everyone sees this", response_type="in_channel")
    [message] = slack.messages("C_ML")
    assert message.text == "Everyone sees this"
    assert message.bot_id == slack.workspace.bot_id


async def test_replace_and_delete_original(slack: SlackStandIn) -> None:
    card = slack.workspace.post_message("C_ML", text="running", blocks=[], user="U_BOT", bot=True)
    await hook(slack, message_ts=card.ts).send(text="paused", replace_original=True)
    assert [m.text for m in slack.messages("C_ML")] == ["paused"]
    assert card.edited
    await hook(slack, message_ts=card.ts).send(delete_original=True)
    assert slack.messages("C_ML") == []


async def test_replace_original_of_an_ephemeral(slack: SlackStandIn) -> None:
    note = slack.workspace.post_ephemeral(
        "C_ML", "U_ALICE", text="Sure?", blocks=[], source="chat.postEphemeral"
    )
    await hook(slack, ephemeral_id=note.id).send(text="Done", replace_original=True)
    assert [e.text for e in slack.ephemerals("U_ALICE")] == ["Done"]


async def test_unknown_url_and_overuse_are_refused(slack: SlackStandIn) -> None:
    async with httpx.AsyncClient() as http:
        unknown = await http.post(slack.response_url("nope"), json={"text": "x"})
        assert unknown.status_code == 404
        not_json = await http.post(slack.response_url("nope"), content=b"text")
        assert not_json.status_code == 400
    client = hook(slack)
    statuses = [(await client.send(text=f"{i}")).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]  # Slack: 5 uses per response_url
    assert len(slack.ephemerals("U_ALICE")) == 5


async def test_invalid_blocks_are_refused(slack: SlackStandIn) -> None:
    answer = await hook(slack).send(text="x", blocks=[{"type": "divider"}] * 51)
    assert answer.status_code == 400
    assert slack.responses[-1].error == "invalid_blocks"
    assert slack.ephemerals() == []


async def test_faults_can_target_the_sink(slack: SlackStandIn) -> None:
    slack.fail_next(1, status=500, method="response_url")
    assert (await hook(slack).send(text="x")).status_code == 500
    assert slack.responses[-1].error == "internal_error"
    assert slack.ephemerals() == []
