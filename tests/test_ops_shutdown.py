"""`tuneops run` as a process: it serves, and on SIGTERM it stops taking work, finishes and exits 0."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp

from bot.emulator.server import EmulatorServer
from bot.emulator.state import DEMO_TRAINING_FILE
from bot.standin.server import SlackStandIn
from storage.sqlite import open_store
from tests.support.ops import (
    OPS_API_KEY,
    OPS_BOT_TOKEN,
    OPS_SIGNING_SECRET,
    FakeSocketModeSlack,
    free_port,
    outside_env,
    service_env,
)

CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=sigterm"


async def _start_service(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=outside_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, asyncio.timeout(60):
        while True:
            assert process.returncode is None, "the service exited early"
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        body: dict[str, object] = await response.json()
                        return body
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


async def _sigterm(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


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
    process = await _start_service(env, tmp_path)
    try:
        health = await _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert health == {"status": "ok", "database": True, "watcher": True, "socket_mode": None}
        ops_slack.set_bot_url(f"http://127.0.0.1:{port}/slack/events")
        sent = await ops_slack.sender.slash(CREATE, user="U_ALICE", channel="C_OPS")
        assert sent.status == 200
        await ops_slack.wait_for(lambda: ops_slack.messages("C_OPS"), 20)
    finally:
        code, output = await _sigterm(process)

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
    fake_socket_slack: FakeSocketModeSlack, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": OPS_BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-A1-ops-secret",
        "SLACK_API_URL": fake_socket_slack.base_url,
        "OPENAI_API_KEY": OPS_API_KEY,
        "OPENAI_BASE_URL": ops_emulator.openai_base_url,
        "TUNEOPS_DB": str(tmp_path / "tuneops.db"),
        "PORT": str(port),
    }
    process = await _start_service(env, tmp_path)
    try:
        await fake_socket_slack.wait_for_connections(1)
        health = await _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert health["socket_mode"] is True
    finally:
        code, output = await _sigterm(process)
    assert code == 0, output
    assert "connected to Slack in Socket Mode" in output
    assert "xapp-1-A1-ops-secret" not in output
    assert fake_socket_slack.connections[0].closed
