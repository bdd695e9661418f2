"""`tuneops run` in Socket Mode, as a real process, takes fine-tuning webhooks on PORT: Slack reaches it
over the WebSocket only, the fine-tuning service over HTTP. A job's end is told by its webhook while the
next poll is ten minutes away."""

from __future__ import annotations

import base64
from pathlib import Path

import aiohttp

from bot.app.webhooks import WEBHOOKS_PATH
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin import SlackStandIn
from tests.support.background import note_transition
from tests.support.ops import (
    free_port,
    metric_value,
    sigterm,
    socket_service_env,
    start_service,
    wait_healthy,
)

SECRET = "whsec_" + base64.b64encode(b"socket-mode-webhook-secret").decode()
CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=hooked"


async def test_socket_mode_takes_webhooks_on_its_port(
    socket_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    slack = socket_slack
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = socket_service_env(slack, ops_emulator, tmp_path / "tuneops.db", port)
    env |= {"TUNEOPS_WEBHOOK_SECRET": SECRET, "TUNEOPS_POLL_INTERVAL": "600"}
    process = await start_service(env, tmp_path)
    try:
        await slack.wait_for_socket_connections(1, 60)
        await wait_healthy(url, process)
        sent = await slack.sender.slash(CREATE, user="U_ALICE", channel="C_OPS")
        assert (sent.status, sent.transport) == (200, "socket")
        (card,) = await slack.wait_for(lambda: slack.messages("C_OPS"), 20)
        assert card.metadata is not None
        job_id = str(card.metadata["event_payload"]["job_id"])

        async with EmulatorControl(ops_emulator.url) as control:
            await control.set_webhook(url + WEBHOOKS_PATH, SECRET, retry_delays=[0.1, 0.2])
            await control.set_job(job_id, status="succeeded")
            told = await slack.wait_for(
                lambda: [
                    t
                    for t in (note_transition(m) for m in slack.thread("C_OPS", card.ts))
                    if t and t.endswith(":succeeded")
                ],
                20,
            )
            deliveries = await control.webhook_deliveries()
        assert len(told) == 1
        assert [(d["job_id"], [a["status"] for a in d["attempts"]]) for d in deliveries] == [(job_id, [200])]
        assert slack.bot_url is None  # Slack itself never POSTs to the bot
        async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as response:
            metrics = await response.text()
        assert metric_value(metrics, "tuneops_webhook_deliveries_total", outcome="read_now") == 1
    finally:
        code, output = await sigterm(process)
    assert code == 0, output
    assert SECRET not in output
