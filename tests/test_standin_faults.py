"""The stand-in's fault knobs (channel states, forced 429/5xx, latency, pacing), through a real client and
over the `/_standin/` HTTP control endpoints."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn


def bare_client(slack: SlackStandIn, **kwargs: object) -> AsyncWebClient:
    """A client without the rate-limit retry handler, so a 429 surfaces."""
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "error"),
    [("archived", "is_archived"), ("not_in_channel", "not_in_channel"), ("not_found", "channel_not_found")],
)
async def test_channel_states_refuse_posts(
    slack: SlackStandIn, slack_client: AsyncWebClient, state: str, error: str
) -> None:
    slack.set_channel_state("C_ML", state)  # type: ignore[arg-type]
    with pytest.raises(SlackApiError) as caught:
        await slack_client.chat_postMessage(channel="C_ML", text="card")
    assert caught.value.response["error"] == error
    assert slack.messages("C_ML") == []
    slack.set_channel_state("C_ML", "ok")
    assert (await slack_client.chat_postMessage(channel="C_ML", text="card"))["ok"]


async def test_archived_channel_refuses_updates_too(
    slack: SlackStandIn, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(channel="C_ML", text="card")
    slack.set_channel_state("C_ML", "archived")
    with pytest.raises(SlackApiError) as caught:
        await slack_client.chat_update(channel="C_ML", ts=posted["ts"], text="new")
    assert caught.value.response["error"] == "is_archived"


async def test_unknown_channel_state_is_rejected(slack: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="state must be one of"):
        slack.set_channel_state("C_ML", "frozen")  # type: ignore[arg-type]


async def test_429_carries_retry_after_and_ratelimited(slack: SlackStandIn) -> None:
    slack.fail_next(1, status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await bare_client(slack).chat_postMessage(channel="C_ML", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert slack.messages("C_ML") == []
    [call] = slack.calls
    assert (call.method, call.status, call.error) == ("chat.postMessage", 429, "ratelimited")


async def test_429_is_retried_by_the_rate_limit_handler(slack: SlackStandIn) -> None:
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.fail_next(1, status=429, retry_after=0)
    answer = await client.chat_postMessage(channel="C_ML", text="eventually")
    assert answer["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert [m.text for m in slack.messages("C_ML")] == ["eventually"]


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retried_by_the_server_error_handler(
    slack: SlackStandIn, status: int
) -> None:
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next(1, status=status)
    assert (await client.chat_postMessage(channel="C_ML", text="x"))["ok"]
    assert [c.status for c in slack.calls] == [status, 200]


async def test_failures_can_target_one_method(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    slack.fail_next(2, status=503, method="chat.update")
    posted = await slack_client.chat_postMessage(channel="C_ML", text="card")  # not affected
    client = bare_client(slack)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.chat_update(channel="C_ML", ts=posted["ts"], text="new")
    assert (await client.chat_update(channel="C_ML", ts=posted["ts"], text="new"))["ok"]
    assert [c.status for c in slack.calls_to("chat.update")] == [503, 503, 200]


async def test_fail_next_rejects_nonsense(slack: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        slack.fail_next(0)
    with pytest.raises(ValueError, match="HTTP error status"):
        slack.fail_next(1, status=200)


async def test_latency_makes_an_impatient_client_give_up(slack: SlackStandIn) -> None:
    slack.set_latency(2000, method="chat.postMessage")
    impatient = bare_client(slack, timeout=0.2)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel="C_ML", text="x")
    assert (await impatient.auth_test())["ok"]  # other methods are not slowed down


async def test_pacing_checker_records_bursts(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    slack.set_pacing(rate=0.001, burst=2)  # effectively no refill during the test
    for i in range(4):
        await slack_client.chat_postMessage(channel="C_ML", text=f"m{i}")
    await slack_client.chat_postMessage(channel="C_GENERAL", text="other channel, own budget")
    assert [v.channel for v in slack.pacing_violations] == ["C_ML", "C_ML"]
    assert len(slack.messages("C_ML")) == 4  # recorded, not refused


async def test_enforced_pacing_answers_429(slack: SlackStandIn) -> None:
    slack.set_pacing(rate=0.001, burst=1, enforce=True)
    client = bare_client(slack)
    await client.chat_postMessage(channel="C_ML", text="first")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_ML", text="too soon")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    assert [m.text for m in slack.messages("C_ML")] == ["first"]


async def test_control_endpoints(slack: SlackStandIn, slack_client: AsyncWebClient) -> None:
    async with httpx.AsyncClient(base_url=slack.url) as http:
        assert (
            await http.post("/_standin/channel_state", json={"channel": "C_ML", "state": "archived"})
        ).json()["ok"]
        assert (
            await http.post("/_standin/fail_next", json={"n": 1, "status": 503, "method": "auth.test"})
        ).json()["ok"]
        assert (
            await http.post("/_standin/channel_state", json={"channel": "C_ML", "state": "nope"})
        ).status_code == 400
        with pytest.raises(SlackApiError) as archived:
            await slack_client.chat_postMessage(channel="C_ML", text="x")
        assert archived.value.response["error"] == "is_archived"
        with pytest.raises(SlackApiError):
            await bare_client(slack).auth_test()

        calls = (await http.get("/_standin/calls")).json()["calls"]
        assert [(c["method"], c["status"], c["error"]) for c in calls] == [
            ("chat.postMessage", 200, "is_archived"),
            ("auth.test", 503, "service_unavailable"),
        ]
        only = (await http.get("/_standin/calls", params={"method": "auth.test"})).json()["calls"]
        assert len(only) == 1

        await http.post("/_standin/pacing", json={"rate": 0.001, "burst": 1})
        await http.post("/_standin/channel_state", json={"channel": "C_ML", "state": "ok"})
        await slack_client.chat_postMessage(channel="C_ML", text="a")
        await slack_client.chat_postMessage(channel="C_ML", text="b")
        violations = (await http.get("/_standin/pacing")).json()["violations"]
        assert [v["channel"] for v in violations] == ["C_ML"]
        messages = (await http.get("/_standin/messages", params={"channel": "C_ML"})).json()["messages"]
        assert [m["text"] for m in messages] == ["a", "b"]

        await http.post("/_standin/reset")
        assert slack.calls == []
        assert slack.pacing_violations == []


async def test_control_endpoints_explain_bad_input(slack: SlackStandIn) -> None:
    async with httpx.AsyncClient(base_url=slack.url) as http:
        missing = await http.post("/_standin/channel_state", json={"state": "archived"})
        assert missing.status_code == 400
        assert "channel" in missing.json()["error"]
        assert (await http.post("/_standin/fail_next", json={"n": "many"})).status_code == 400
        assert (await http.post("/_standin/users", json={"id": "U_X"})).status_code == 400
        assert (await http.post("/_standin/latency", json=[1, 2])).status_code == 400
        assert (
            await http.post("/_standin/users", json={"id": "U_OPS", "name": "ops", "is_admin": True})
        ).json()["ok"]
        assert (await http.post("/_standin/channels", json={"id": "C_OPS", "name": "ops"})).json()["ok"]
        assert (await http.post("/_standin/bot_url", json={"url": "http://127.0.0.1:9/slack/events"})).json()[
            "ok"
        ]
        assert (await http.post("/_standin/trigger_ttl", json={"seconds": None})).json()["ok"]
    assert slack.workspace.users["U_OPS"].is_admin
    assert slack.workspace.channels["C_OPS"].name == "ops"
    assert slack.bot_url == "http://127.0.0.1:9/slack/events"
    assert slack.trigger_ttl is None
