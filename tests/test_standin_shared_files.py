"""The stand-in serves shared files as Slack does: the bytes to the bot token, a sign-in page otherwise."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn


async def test_url_private_needs_the_bot_token(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    shared = slack.shared_files.add("train.jsonl", b'{"messages": []}\n', user="U_ALICE")
    info = await slack_client.files_info(file=shared.id)
    file = info["file"]
    assert file["name"] == "train.jsonl"
    assert file["size"] == len(shared.content)

    async with httpx.AsyncClient() as http:
        with_token = await http.get(
            file["url_private"], headers={"Authorization": f"Bearer {slack.bot_token}"}
        )
        without = await http.get(file["url_private_download"])
        wrong = await http.get(file["url_private"], headers={"Authorization": "Bearer xoxb-other"})

    assert with_token.status_code == 200
    assert with_token.content == shared.content
    # Slack answers a sign-in page, not an error, to a request without the right token.
    for refused in (without, wrong):
        assert refused.status_code == 200
        assert refused.headers["content-type"].startswith("text/html")
        assert shared.content not in refused.content
    assert shared.downloads == ["bot", "none", "none"]


async def test_an_unknown_file_is_not_found(slack_client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        await slack_client.files_info(file="F_NOPE")
    assert refused.value.response["error"] == "file_not_found"
