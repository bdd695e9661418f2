"""The stand-in's public channel the bot is not a member of: posts and edits work (`chat:write.public`),
reading its messages answers `not_in_channel`, as Slack does."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn


async def test_a_public_channel_the_bot_is_not_in_takes_posts_but_refuses_reads(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    slack.set_channel_state("C_ML", "public_not_member")
    card = await slack_client.chat_postMessage(channel="C_ML", text="card")
    reply = await slack_client.chat_postMessage(channel="C_ML", text="note", thread_ts=card["ts"])
    await slack_client.chat_update(channel="C_ML", ts=card["ts"], text="card, redrawn")
    assert [m.text for m in slack.messages("C_ML")] == ["card, redrawn"]
    assert [m.ts for m in slack.thread("C_ML", card["ts"])] == [reply["ts"]]

    for read in (
        slack_client.conversations_history(channel="C_ML"),
        slack_client.conversations_replies(channel="C_ML", ts=card["ts"]),
    ):
        with pytest.raises(SlackApiError) as caught:
            await read
        assert caught.value.response["error"] == "not_in_channel"
    info = await slack_client.conversations_info(channel="C_ML")
    assert info["channel"]["is_member"] is False

    slack.set_channel_state("C_ML", "ok")  # invited: it can read again
    history = await slack_client.conversations_history(channel="C_ML")
    assert [m["ts"] for m in history["messages"]] == [card["ts"]]
