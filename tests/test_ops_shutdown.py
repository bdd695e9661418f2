"""`tuneops run` as a process: it serves, and on SIGTERM it stops taking work, finishes and exits 0."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin.server import SlackStandIn
from storage.sqlite import open_store
from tests.support.ops import (
    OPS_API_KEY,
    OPS_APP_TOKEN,
    OPS_BOT_TOKEN,
    OPS_SIGNING_SECRET,
    free_port,
    service_env,
    sigterm,
    socket_service_env,
    start_service,
    wait_healthy,
)

CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=sigterm"


def _integrity_check(db_path: Path) -> str:
    with sqlite3.connect(db_path) as db:
        (result,) = db.execute("PRAGMA integrity_check").fetchone()
    return str(result)


async def test_sigterm_in_http_mode_exits_zero_with_a_consistent_database(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    db_path = tmp_path / "tuneops.db"
    env = {**service_env(ops_slack, ops_emulator, db_path), "PORT": str(port), "LOG_FORMAT": "json"}
    process = await start_service(env, tmp_path)
    try:
        health = await wait_healthy(f"http://127.0.0.1:{port}", process)
        assert health == {
            "status": "ok",
            "database": True,
            "watcher": True,
            "socket_mode": None,
            "problems": [],
        }
        ops_slack.set_bot_url(f"http://127.0.0.1:{port}/slack/events")
        sent = await ops_slack.sender.slash(CREATE, user="U_ALICE", channel="C_OPS")
        assert sent.status == 200
        await ops_slack.wait_for(lambda: ops_slack.messages("C_OPS"), 20)
    finally:
        code, output = await sigterm(process)

    assert code == 0, output
    assert '"shutting down"' in output
    assert '"stopped"' in output
    for secret in (OPS_BOT_TOKEN, OPS_SIGNING_SECRET, OPS_API_KEY):
        assert secret not in output
    assert await asyncio.to_thread(_integrity_check, db_path) == "ok"
    store = await open_store(db_path)
    try:
        (job,) = await store.channel_jobs("C_OPS")
        assert job.suffix == "sigterm"
    finally:
        await store.close()
    # After the stop nothing listens any more.
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                raise AssertionError(f"still answering after SIGTERM: {response.status}")
        except aiohttp.ClientConnectionError:
            pass


async def test_socket_mode_service_reports_its_socket_and_stops_on_sigterm(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    env = socket_service_env(ops_slack, ops_emulator, tmp_path / "tuneops.db", port)
    process = await start_service(env, tmp_path)
    try:
        connection = await ops_slack.wait_for_socket_connections(1, 60)
        health = await wait_healthy(f"http://127.0.0.1:{port}", process)
        assert health["socket_mode"] is True
    finally:
        code, output = await sigterm(process)
    assert code == 0, output
    assert "connected to Slack in Socket Mode" in output
    assert OPS_APP_TOKEN not in output
    # The service closed its connection on the way out (a close frame, not a dropped line).
    await ops_slack.wait_for(lambda: connection.closed)
    assert connection.close_reason == "app"
