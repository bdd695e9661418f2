"""The stand-in's file upload: slack_sdk's `files_upload_v2` against it, the three calls and their errors."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_an_upload_into_a_thread_is_shared_there_with_its_comment(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    parent = await slack_client.chat_postMessage(channel="C_ML", text="a job card")
    done = await slack_client.files_upload_v2(
        filename="loss.png",
        content=PNG,
        title="Loss curve",
        alt_txt="loss by step",
        channel="C_ML",
        thread_ts=parent["ts"],
        initial_comment="📈 the curve",
    )
    [file] = done["files"]
    assert (file["name"], file["title"], file["mimetype"], file["size"]) == (
        "loss.png",
        "Loss curve",
        "image/png",
        len(PNG),
    )
    # The upload URL was the stand-in's own.
    [url_call] = slack.calls_to("files.getUploadURLExternal")
    assert url_call.ok and str(url_call.response["upload_url"]).startswith(slack.url + "/upload/v1/")
    assert url_call.args["length"] in (str(len(PNG)), len(PNG))

    [shared] = slack.uploads.shared_in("C_ML", parent["ts"])
    assert shared.content == PNG
    [reply] = slack.thread("C_ML", parent["ts"])
    assert reply.text == "📈 the curve" and reply.files[0]["id"] == file["id"]
    # conversations.replies shows the file on its message, as Slack does.
    replies = await slack_client.conversations_replies(channel="C_ML", ts=parent["ts"])
    assert replies["messages"][1]["files"][0]["name"] == "loss.png"

    # The page's preview serves the image itself.
    async with httpx.AsyncClient(base_url=slack.url) as http:
        preview = await http.get(f"/_standin/files/{file['id']}")
    assert preview.status_code == 200
    assert preview.headers["content-type"].startswith("image/png") and preview.content == PNG


async def test_completing_a_file_never_uploaded_or_twice_is_refused(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    ticket = await slack_client.files_getUploadURLExternal(filename="a.png", length=len(PNG))
    with pytest.raises(SlackApiError) as never_sent:
        await slack_client.files_completeUploadExternal(
            files=[{"id": ticket["file_id"], "title": "a"}], channel_id="C_ML"
        )
    assert never_sent.value.response["error"] == "file_not_found"
    async with httpx.AsyncClient() as http:
        assert (await http.post(str(ticket["upload_url"]), content=PNG)).status_code == 200
        # An upload URL is used once.
        assert (await http.post(str(ticket["upload_url"]), content=PNG)).status_code == 404
    files = [{"id": ticket["file_id"], "title": "a"}]
    assert (await slack_client.files_completeUploadExternal(files=files, channel_id="C_ML"))["ok"]
    with pytest.raises(SlackApiError) as again:
        await slack_client.files_completeUploadExternal(files=files, channel_id="C_ML")
    assert again.value.response["error"] == "file_not_found"
    assert len(slack.uploads.shared_in("C_ML")) == 1


async def test_an_upload_needs_the_files_write_scope_and_a_channel_the_bot_can_post_in(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    slack.set_channel_state("C_GONE", "archived")
    with pytest.raises(SlackApiError) as archived:
        await slack_client.files_upload_v2(filename="a.png", content=PNG, channel="C_GONE")
    assert archived.value.response["error"] == "is_archived"

    slack.bot_scopes = ("commands", "chat:write")
    with pytest.raises(SlackApiError) as refused:
        await slack_client.files_upload_v2(filename="a.png", content=PNG, channel="C_ML")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:write"
    assert slack.uploads.shared_in("C_ML") == []
