"""`GET /healthz` and `GET /metrics`: on the running bot (emulator + Slack stand-in, background on), and the
Socket Mode part against the stand-in's Socket Mode side."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.health import HealthCheck, add_ops_routes
from bot.app.socket_watchdog import SocketWatchdog
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin import SlackStandIn
from storage.sqlite import SqliteStore
from tests.support.ops import OpsBot, metric_value

CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=ops"


async def test_healthy_when_database_and_watcher_are(ops_bot: OpsBot) -> None:
    status, body = await ops_bot.healthz()
    assert status == 200
    assert body == {"status": "ok", "database": True, "watcher": True, "socket_mode": None, "problems": []}


async def test_unhealthy_when_the_watcher_is_gone(ops_bot: OpsBot) -> None:
    background = ops_bot.runtime.background
    assert background is not None
    await background.stop(timeout=2)
    status, body = await ops_bot.healthz()
    assert status == 503
    assert body == {
        "status": "unhealthy",
        "database": True,
        "watcher": False,
        "socket_mode": None,
        "problems": ["the watcher has not finished a cycle lately (see the log)"],
    }


async def test_unhealthy_when_the_database_does_not_answer(ops_bot: OpsBot) -> None:
    background = ops_bot.runtime.background
    assert background is not None
    await background.stop(timeout=2)  # so the only thing wrong below is the database
    await ops_bot.runtime.services.store.close()
    status, body = await ops_bot.healthz()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["database"] is False
    assert "the database does not answer" in body["problems"]
    # Metrics are still served (the outbox gauges just keep their last value).
    assert "tuneops_api_requests_total" in await ops_bot.metrics()


async def test_unhealthy_when_the_database_file_is_deleted(ops_bot: OpsBot) -> None:
    """`SELECT 1` still answers on a deleted file (the open handle lives on), yet nothing written lasts."""
    store = ops_bot.runtime.services.store
    assert isinstance(store, SqliteStore)
    store.path.unlink()
    status, body = await ops_bot.healthz()
    assert status == 503
    assert body["database"] is False
    assert body["problems"] == ["the database file is gone (No such file or directory)"]


async def test_unhealthy_when_the_database_file_was_replaced(ops_bot: OpsBot) -> None:
    store = ops_bot.runtime.services.store
    assert isinstance(store, SqliteStore)
    store.path.unlink()
    store.path.write_bytes(b"")  # another file at the same path: not the one the bot writes to
    status, body = await ops_bot.healthz()
    assert status == 503
    assert body["database"] is False
    assert body["problems"] == ["the database file was replaced since it was opened"]


async def test_metrics_count_real_traffic(ops_bot: OpsBot) -> None:
    slack, before = ops_bot.slack, await ops_bot.metrics()

    sent = await slack.sender.slash(CREATE, user="U_ALICE", channel="C_OPS")
    assert sent.status == 200
    await slack.wait_for(lambda: slack.messages("C_OPS"))
    await slack.sender.slash(
        "create model=gpt-4o-mini-2024-07-18", user="U_ALICE", channel="C_OPS"
    )  # no file
    await ops_bot.control.advance(3600)  # the emulated job runs to its end: status changes to deliver

    # This bot's own outcome, seen in Slack (the counters are shared by the whole test process).
    (card,) = slack.messages("C_OPS")
    await slack.wait_for(
        lambda: [
            m for m in slack.thread("C_OPS", card.ts) if "succeeded" in m.text.lower() and m.reply_broadcast
        ],
        30,
    )
    after = before

    def grew(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    # The notifier counts a delivery once Slack's answer is back, a moment after Slack shows the message.
    async with asyncio.timeout(10):
        while not (
            grew("tuneops_deliveries_total", kind="reply", outcome="sent", reason="broadcast") > 0
            and grew("tuneops_deliveries_total", kind="card", outcome="sent", reason="edited") > 0
        ):
            await asyncio.sleep(0.05)
            after = await ops_bot.metrics()

    assert grew("tuneops_slack_requests_total", kind="command", outcome="ok") >= 1
    assert grew("tuneops_slack_requests_total", kind="command", outcome="bad_input") == 1
    assert grew("tuneops_api_requests_total", operation="create_job", status="200") == 1
    assert (
        grew("tuneops_api_requests_total", operation="list_jobs", status="200")
        + grew("tuneops_api_requests_total", operation="retrieve_job", status="200")
        >= 1
    )
    assert grew("tuneops_poll_cycle_seconds_count") >= 1
    assert grew("tuneops_deliveries_total", kind="reply", outcome="sent", reason="broadcast") >= 1
    assert grew("tuneops_deliveries_total", kind="card", outcome="sent", reason="edited") >= 1
    for gauge in (
        "tuneops_outbox_pending",
        "tuneops_outbox_oldest_pending_seconds",
        "tuneops_poll_lag_seconds",
    ):
        assert f"\n{gauge} " in after


async def test_unhealthy_while_the_socket_mode_connection_is_down(
    store: SqliteStore, socket_slack: SlackStandIn
) -> None:
    """Socket Mode: `/healthz` follows the WebSocket, down when Slack is gone, up again after the watchdog."""
    app = AsyncApp(client=AsyncWebClient(token=socket_slack.bot_token, base_url=socket_slack.api_url))
    watchdog = SocketWatchdog(
        lambda: AsyncSocketModeHandler(app, socket_slack.app_token, ping_interval=60),
        interval=3600,
        max_failures=1,
    )
    web_app = web.Application()
    add_ops_routes(web_app, HealthCheck(store, socket=watchdog))
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"

    async def healthz(http: aiohttp.ClientSession) -> tuple[int, dict[str, object]]:
        async with http.get(url) as response:
            return response.status, await response.json()

    assert await watchdog.start()
    try:
        async with aiohttp.ClientSession() as http:
            assert await healthz(http) == (
                200,
                {"status": "ok", "database": True, "watcher": None, "socket_mode": True, "problems": []},
            )
            socket_slack.drop_socket_connections()
            async with asyncio.timeout(10):
                answer = await healthz(http)
                while answer[0] == 200:
                    await asyncio.sleep(0.02)
                    answer = await healthz(http)
            assert answer == (
                503,
                {
                    "status": "unhealthy",
                    "database": True,
                    "watcher": None,
                    "socket_mode": False,
                    "problems": ["the Socket Mode connection to Slack is down"],
                },
            )

            assert await watchdog.check()  # one check is enough here (max_failures=1): reconnected
            assert (await healthz(http))[0] == 200
    finally:
        await watchdog.stop()
        await runner.cleanup()
