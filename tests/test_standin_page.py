"""The stand-in's web page and its endpoints: the page is served, it learns about new messages and edits
through the long-poll, and what a person does on it reaches the bot as signed Slack requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn
from bot.sandbox.standin.updates import UpdateLog

BUTTON_CARD = [
    {
        "type": "actions",
        "block_id": "buttons",
        "elements": [
            {
                "type": "button",
                "action_id": "job_pause",
                "value": "ftjob-1",
                "text": {"type": "plain_text", "text": "Pause"},
            }
        ],
    }
]
FORM = {
    "type": "modal",
    "callback_id": "create_job",
    "title": {"type": "plain_text", "text": "New fine-tune"},
    "submit": {"type": "plain_text", "text": "Start"},
    "blocks": [
        {
            "type": "input",
            "block_id": "suffix",
            "label": {"type": "plain_text", "text": "Suffix"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
async def http(slack: SlackStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=slack.url, timeout=10) as client:
        yield client


@pytest.fixture
async def bot(slack: SlackStandIn) -> AsyncIterator[None]:
    """A small Bolt app: `/finetune card` posts a card with a Pause button, `/finetune form` opens a modal."""
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    app = AsyncApp(client=client, signing_secret=slack.signing_secret)

    @app.command("/finetune")
    async def command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if command["text"] == "form":
            await client.views_open(trigger_id=command["trigger_id"], view=FORM)
        else:
            await client.chat_postMessage(channel=command["channel_id"], text="card", blocks=BUTTON_CARD)

    @app.action("job_pause")
    async def pause(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["container"]["message_ts"], text="paused", blocks=[]
        )

    @app.view("create_job")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        suffix = view["state"]["values"]["suffix"]["value"]["value"]
        if " " in suffix:
            await ack(response_action="errors", errors={"suffix": "No spaces, please"})
        else:
            await ack()

    runner = web.AppRunner(app.web_app())
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    slack.set_bot_url(f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events")
    yield
    await runner.cleanup()


async def test_page_is_served_with_its_composer(http: httpx.AsyncClient) -> None:
    page = await http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="composer-input"' in page.text
    assert 'id="message-list"' in page.text
    assert 'src="/static/app.js"' in page.text
    script = await http.get("/static/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/ui/updates" in script.text
    assert (await http.get("/static/app.css")).status_code == 200
    assert (await http.get("/static/missing.js")).status_code == 404
    assert (await http.get("/static/..%2Fserver.py")).status_code == 404


async def test_state_has_channels_people_and_the_command(
    slack: SlackStandIn, http: httpx.AsyncClient
) -> None:
    state = (await http.get("/ui/state", params={"user": "U_SANDBOX"})).json()
    assert {c["name"] for c in state["channels"]} >= {"ml-team", "general"}
    assert "U_SANDBOX" in {u["id"] for u in state["users"]}
    assert state["me"] == "U_SANDBOX"
    assert state["command"] == "/finetune"
    assert state["bot_connected"] is False


async def test_the_default_user_has_a_real_looking_name(slack_client: AsyncWebClient) -> None:
    """Others read "Started by @…" for the page's default user: a person's name, never "you"."""
    user = (await slack_client.users_info(user="U_SANDBOX"))["user"]
    assert user["name"] == "sam"
    assert user["real_name"] == "Sam Rivera"


async def test_updates_bring_new_messages_and_edits(
    slack: SlackStandIn, slack_client: AsyncWebClient, http: httpx.AsyncClient
) -> None:
    since = (await http.get("/ui/state")).json()["seq"]
    waiting = asyncio.ensure_future(http.get("/ui/updates", params={"since": since, "timeout": 10}))
    await asyncio.sleep(0.05)  # the poll is now parked on the server
    posted = await slack_client.chat_postMessage(channel="C_ML", text="Job *ftjob-1* created")
    answer = (await waiting).json()
    [update] = answer["updates"]
    assert update["kind"] == "message"
    assert update["message"]["ts"] == posted["ts"]
    assert update["message"]["text"] == "Job *ftjob-1* created"
    assert update["message"]["standin"]["channel"] == "C_ML"

    await slack_client.chat_update(channel="C_ML", ts=posted["ts"], text="Job *ftjob-1* running")
    edits = (await http.get("/ui/updates", params={"since": answer["seq"], "timeout": 0})).json()
    assert edits["updates"][0]["message"]["text"] == "Job *ftjob-1* running"
    assert edits["updates"][0]["message"]["standin"]["edited"] is True


async def test_updates_time_out_empty(http: httpx.AsyncClient) -> None:
    seq = (await http.get("/ui/state")).json()["seq"]
    answer = (await http.get("/ui/updates", params={"since": seq, "timeout": 0.05})).json()
    assert answer == {"seq": seq, "reset": False, "updates": []}


async def test_ephemerals_and_modals_reach_only_their_person(
    slack: SlackStandIn, slack_client: AsyncWebClient, http: httpx.AsyncClient
) -> None:
    await slack_client.chat_postEphemeral(channel="C_ML", user="U_BOB", text="psst")
    await slack_client.chat_postMessage(channel="C_ML", text="everyone")
    for_alice = (await http.get("/ui/updates", params={"since": 0, "timeout": 0, "user": "U_ALICE"})).json()
    assert [u["kind"] for u in for_alice["updates"] if u["kind"] != "directory"] == ["message"]
    for_bob = (await http.get("/ui/updates", params={"since": 0, "timeout": 0, "user": "U_BOB"})).json()
    assert [u["kind"] for u in for_bob["updates"] if u["kind"] != "directory"] == ["ephemeral", "message"]
    assert (await http.get("/ui/state", params={"user": "U_BOB"})).json()["ephemerals"][0]["text"] == "psst"


def test_update_log_tells_a_reader_that_fell_behind_to_reload() -> None:
    log = UpdateLog(capacity=3)
    for i in range(5):
        log.add("message", {"i": i})
    entries, reset = log.since(0)
    assert reset is True
    assert [e.data["i"] for e in entries] == [2, 3, 4]
    entries, reset = log.since(2)
    assert reset is False
    assert [e.seq for e in entries] == [3, 4, 5]


async def test_a_page_from_before_a_restart_is_told_to_reload() -> None:
    """A tab left open across a sandbox restart on the same port asks from a number the new log never
    reached: it must reload, not wait for updates it would then skip."""
    log = UpdateLog(capacity=3)
    log.add("message", {"i": 0})
    assert log.since(999) == ([], True)
    assert await log.wait(999, max_wait=5) == ([], True)  # answered at once, not after the long poll


async def test_composer_slash_command_reaches_the_bot(
    slack: SlackStandIn, http: httpx.AsyncClient, bot: None
) -> None:
    answer = (
        await http.post(
            "/ui/command", json={"user": "U_SANDBOX", "channel": "C_ML", "text": "/finetune card"}
        )
    ).json()
    assert answer["status"] == 200
    [card] = await slack.wait_for(lambda: slack.messages("C_ML"))
    assert card.blocks[0]["elements"][0]["text"]["text"] == "Pause"
    click = await http.post(
        "/ui/click",
        json={
            "user": "U_SANDBOX",
            "channel": "C_ML",
            "ts": card.ts,
            "action_id": "job_pause",
            "block_id": "buttons",
        },
    )
    assert click.json()["status"] == 200
    await slack.wait_for(lambda: card.text == "paused")


async def test_composer_plain_text_and_unknown_commands(slack: SlackStandIn, http: httpx.AsyncClient) -> None:
    await http.post("/ui/command", json={"user": "U_SANDBOX", "channel": "C_GENERAL", "text": "hello team"})
    [message] = slack.messages("C_GENERAL")
    assert (message.text, message.user, message.bot_id) == ("hello team", "U_SANDBOX", None)
    await http.post("/ui/command", json={"user": "U_SANDBOX", "channel": "C_GENERAL", "text": "/deploy now"})
    assert "`/deploy` is not a valid command" in slack.ephemerals("U_SANDBOX")[0].text
    await http.post(
        "/ui/command", json={"user": "U_SANDBOX", "channel": "C_GENERAL", "text": "/finetune help"}
    )
    assert slack.ephemerals("U_SANDBOX")[1].text == "No app is connected to this stand-in yet."
    assert (await http.post("/ui/command", json={"text": "  "})).status_code == 400


async def test_modal_from_the_page(slack: SlackStandIn, http: httpx.AsyncClient, bot: None) -> None:
    await http.post("/ui/command", json={"user": "U_SANDBOX", "channel": "C_ML", "text": "/finetune form"})
    view = await slack.wait_for(lambda: slack.open_view("U_SANDBOX"))
    state = (await http.get("/ui/state", params={"user": "U_SANDBOX"})).json()
    assert state["views"][0]["id"] == view.id

    empty = await http.post("/ui/submit", json={"user": "U_SANDBOX", "view_id": view.id, "values": {}})
    assert empty.json()["error"] == "missing_required"
    assert view.errors == {"suffix": "Please complete this required field."}

    values = {"suffix": {"value": "two words"}}
    refused = await http.post("/ui/submit", json={"user": "U_SANDBOX", "view_id": view.id, "values": values})
    assert refused.json()["body"] == {"response_action": "errors", "errors": {"suffix": "No spaces, please"}}
    assert view.errors == {"suffix": "No spaces, please"}

    values = {"suffix": {"value": "support-bot"}}
    await http.post("/ui/submit", json={"user": "U_SANDBOX", "view_id": view.id, "values": values})
    assert slack.open_view("U_SANDBOX") is None
    gone = await http.post("/ui/submit", json={"user": "U_SANDBOX", "view_id": view.id, "values": values})
    assert gone.status_code == 404


async def test_closing_a_modal_from_the_page(slack: SlackStandIn, http: httpx.AsyncClient, bot: None) -> None:
    await http.post("/ui/command", json={"user": "U_SANDBOX", "channel": "C_ML", "text": "/finetune form"})
    view = await slack.wait_for(lambda: slack.open_view("U_SANDBOX"))
    someone_else = await http.post("/ui/close_view", json={"user": "U_BOB", "view_id": view.id})
    assert someone_else.status_code == 404  # only the person who has it open can close it
    answer = await http.post("/ui/close_view", json={"user": "U_SANDBOX", "view_id": view.id})
    assert answer.json() == {"status": None}  # the view did not ask to be told (notify_on_close)
    assert slack.open_view("U_SANDBOX") is None
