"""The stand-in's Home tab: `views.publish` and `users.conversations` with Slack's rules, and the page
showing the Home tab the bot published, its buttons reaching the real bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.actions import Action
from bot.sandbox.standin import SlackStandIn
from bot.views.home import home_action_id
from tests.support.runtime import BotRig, texts_of

HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]}


@pytest.fixture
async def http(slack: SlackStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=slack.url, timeout=10) as client:
        yield client


async def _error(call: Awaitable[object]) -> str:
    """Slack's error code for a call it refuses."""
    try:
        await call
    except SlackApiError as error:
        return str(error.response["error"])
    raise AssertionError("Slack accepted it")


async def test_views_publish_keeps_one_home_view_per_person_with_slacks_rules(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    first = (await slack_client.views_publish(user_id="U_ALICE", view=HOME))["view"]
    assert first["type"] == "home" and first["blocks"][0]["block_id"]
    second = (await slack_client.views_publish(user_id="U_ALICE", view=HOME, hash=first["hash"]))["view"]
    assert second["id"] == first["id"]  # replaced, not a second view
    assert slack.workspace.home.publishes["U_ALICE"] == 2

    assert await _error(slack_client.views_publish(user_id="U_NOBODY", view=HOME)) == "user_not_found"
    modal = {**HOME, "type": "modal", "title": {"type": "plain_text", "text": "x"}}
    assert await _error(slack_client.views_publish(user_id="U_ALICE", view=modal)) == "invalid_arguments"
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert await _error(slack_client.views_publish(user_id="U_ALICE", view=too_many)) == "invalid_arguments"
    stale = slack_client.views_publish(user_id="U_ALICE", view=HOME, hash=first["hash"])
    assert await _error(stale) == "hash_conflict"
    assert slack.workspace.home.view("U_BOB") is None


async def test_users_conversations_lists_the_channels_a_person_is_in(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    async def channels(user: str) -> set[str]:
        answer = await slack_client.users_conversations(user=user, types="public_channel,private_channel")
        return {c["id"] for c in answer["channels"]}

    assert {"C_ML", "C_GENERAL"} <= await channels("U_ALICE")
    slack.workspace.home.set_members("C_ML", ["U_BOB"])
    assert "C_ML" not in await channels("U_ALICE")
    assert "C_ML" in await channels("U_BOB")


async def test_the_page_shows_the_home_tab_the_bot_published_and_its_buttons_reach_the_bot(
    bot: BotRig, http: httpx.AsyncClient
) -> None:
    page = (await http.get("/")).text
    assert 'id="home-link"' in page
    opened = (await http.post("/ui/home", json={"user": "U_ALICE"})).json()
    assert opened["status"] == 200
    await bot.slack.wait_for(lambda: bot.slack.workspace.home.view("U_ALICE"))
    state = (await http.get("/ui/state", params={"user": "U_ALICE"})).json()
    assert "Start one with `/finetune create`" in texts_of([state["home"]])
    # The tab is Alice's alone: the long-poll brings it to her page, not to Bob's.
    for_alice = (await http.get("/ui/updates", params={"since": 0, "timeout": 0, "user": "U_ALICE"})).json()
    for_bob = (await http.get("/ui/updates", params={"since": 0, "timeout": 0, "user": "U_BOB"})).json()
    assert "home" in [u["kind"] for u in for_alice["updates"]]
    assert "home" not in [u["kind"] for u in for_bob["updates"]]
    assert (await http.get("/ui/state", params={"user": "U_BOB"})).json()["home"] is None

    job_id, _ = await bot.running_job(user="U_ALICE")
    await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))
    await http.post("/ui/home", json={"user": "U_ALICE"})
    await bot.slack.wait_for(lambda: bot.slack.workspace.home.publishes.get("U_ALICE") == 2)
    clicked = await http.post(
        "/ui/home_action",
        json={"user": "U_ALICE", "action_id": home_action_id(Action.PAUSE), "block_id": f"home:{job_id}"},
    )
    assert clicked.json()["status"] == 200
    await bot.slack.wait_for(lambda: bot.slack.workspace.home.publishes.get("U_ALICE") == 3)
    assert await bot.job_status_in_emulator(job_id) in ("pausing", "paused")
