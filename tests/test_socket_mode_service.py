"""`tuneops run` in Socket Mode, as a real process: it connects to the Slack stand-in's Socket Mode side with
the app token (no signing secret, no inbound HTTP from Slack), takes `/finetune create` and button clicks
over the WebSocket, posts and edits the card through the Web API; when the connection is cut the watchdog
replaces it (`/healthz` reports the socket down, then up) and commands flow again; SIGTERM exits 0."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin import SlackStandIn
from tests.support.ops import (
    OPS_API_KEY,
    OPS_APP_TOKEN,
    OPS_BOT_TOKEN,
    free_port,
    metric_value,
    service_env,
    sigterm,
    start_service,
    wait_healthy,
)
from tests.support.runtime import button_labels, texts_of

CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=socket"
# Watchdog checks every 0.3 s: three failed checks replace the connection long before the SDK's own
# reconnect (it looks every 10 s), so what brings the connection back here is the watchdog.
CHECK_INTERVAL = "0.3"


async def _health_with_socket(
    http: aiohttp.ClientSession, url: str, connected: bool
) -> tuple[int, dict[str, Any]]:
    """Poll `/healthz` until it reports the socket as `connected`; returns its status and body."""
    async with asyncio.timeout(20):
        while True:
            async with http.get(url + "/healthz") as response:
                body: dict[str, Any] = await response.json()
                if body["socket_mode"] is connected:
                    return response.status, body
            await asyncio.sleep(0.02)


async def test_commands_and_clicks_over_the_socket_survive_a_dropped_connection(
    socket_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    slack = socket_slack
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_env(slack, ops_emulator, tmp_path / "tuneops.db")
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
    env |= {
        "SLACK_APP_TOKEN": OPS_APP_TOKEN,
        "PORT": str(port),
        "TUNEOPS_SOCKET_CHECK_INTERVAL": CHECK_INTERVAL,
        "LOG_FORMAT": "json",
    }
    process = await start_service(env, tmp_path)
    try:
        first = await slack.wait_for_socket_connections(1, 60)
        assert (await wait_healthy(url, process))["socket_mode"] is True
        assert slack.bot_url is None  # nothing is ever POSTed to the bot: it all goes over the socket

        # /finetune create, over the socket: the card is posted in the channel.
        sent = await slack.sender.slash(CREATE, user="U_ALICE", channel="C_OPS")
        assert (sent.status, sent.transport, sent.error) == (200, "socket", None)
        (card,) = await slack.wait_for(lambda: slack.messages("C_OPS"), 20)
        assert card.metadata is not None
        job_id = str(card.metadata["event_payload"]["job_id"])
        assert job_id in texts_of([card])

        # The job runs; Refresh and then Pause, clicked over the socket, edit that card in place.
        async with EmulatorControl(ops_emulator.url) as control:
            await control.set_job(job_id, status="running", step=3)
        assert (await slack.sender.click(card, "job_refresh")).status == 200
        await slack.wait_for(lambda: "Pause" in button_labels(card), 20)
        sent = await slack.sender.click(card, "job_pause")
        assert (sent.status, sent.transport) == (200, "socket")
        await slack.wait_for(lambda: "Resume" in button_labels(card), 20)
        assert "Paused" in texts_of([card])
        assert len(slack.messages("C_OPS")) == 1
        acked = [m["envelope_id"] for m in first.received]
        assert sent.envelope_id in acked

        # The network drops the connection: /healthz says so, then the watchdog replaces it.
        async with aiohttp.ClientSession() as http:
            reconnects_before = metric_value(
                await _metrics(http, url), "tuneops_socket_reconnects_total", outcome="ok"
            )
            assert slack.drop_socket_connections() == 1
            status, body = await _health_with_socket(http, url, connected=False)
            assert (status, body["status"]) == (503, "unhealthy")
            second = await slack.wait_for_socket_connections(2, 20)
            status, body = await _health_with_socket(http, url, connected=True)
            assert (status, body["status"]) == (200, "ok")
            metrics = await _metrics(http, url)
        assert metric_value(metrics, "tuneops_socket_reconnects_total", outcome="ok") == reconnects_before + 1
        assert metric_value(metrics, "tuneops_socket_connected") == 1
        assert (first.close_reason, second.closed) == ("dropped", False)

        # Commands flow again, over the new connection.
        sent = await slack.sender.slash(f"status {job_id}", user="U_BOB", channel="C_OPS")
        assert sent.status == 200
        assert sent.envelope_id in [m.get("envelope_id") for m in second.received]
        await slack.wait_for(lambda: [e for e in slack.ephemerals("U_BOB") if job_id in texts_of([e])], 20)
    finally:
        code, output = await sigterm(process)

    assert code == 0, output
    assert "Socket Mode connection re-established by the watchdog" in output
    for secret in (OPS_BOT_TOKEN, OPS_APP_TOKEN, OPS_API_KEY):
        assert secret not in output
    await slack.wait_for(lambda: second.closed)
    assert second.close_reason == "app"  # closed by the service on its way out


async def _metrics(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url + "/metrics") as response:
        assert response.status == 200
        return await response.text()
