"""`tuneops run` and `tuneops migrate` as processes: serve Slack over HTTP, stop cleanly on SIGTERM, refuse a
configuration that cannot work, and migrate a database file."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin import SlackStandIn
from tests.support.runtime import texts_of

ROOT = Path(__file__).resolve().parents[1]
CLEAN_ENV = {
    k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "AZURE_", "TUNEOPS_"))
}


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {**CLEAN_ENV, "TUNEOPS_DB": str(tmp_path / "service.db"), "LOG_FORMAT": "text", **values}


async def _tuneops(*args: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,  # no stray .env file is read from the checkout
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_serves_slack_over_http_and_stops_on_sigterm(
    emulator: EmulatorServer, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=slack.signing_secret,
        SLACK_API_URL=slack.api_url,
        OPENAI_API_KEY=emulator.api_key,
        OPENAI_BASE_URL=emulator.openai_base_url,
        PORT="0",
    )
    process = await _tuneops("run", env=env, cwd=tmp_path)
    assert process.stderr is not None
    try:
        port = None
        seen: list[str] = []
        while port is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
            assert line, "tuneops run exited early:\n" + "".join(seen)
            seen.append(line)
            found = re.search(r"serving HTTP on 0\.0\.0\.0:(\d+)", line)
            port = int(found.group(1)) if found else None
        slack.set_bot_url(f"http://127.0.0.1:{port}/slack/events")
        sent = await slack.sender.slash("help")
        assert sent.status == 200
        posts = await slack.wait_for(
            lambda: [p for p in slack.responses if p.response_url_id == sent.response_url_id]
        )
        assert "How to use" in texts_of([posts[0].body])
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        rest = (await process.stderr.read()).decode()
    assert code == 0, rest
    assert "shutting down" in rest and "stopped" in rest
    assert slack.bot_token not in "".join(seen) + rest  # the log never shows a secret


async def test_run_refuses_a_configuration_that_cannot_work(tmp_path: Path) -> None:
    process = await _tuneops("run", env=_env(tmp_path, SLACK_BOT_TOKEN="xoxp-a-user-token"), cwd=tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    text = stderr.decode()
    assert "SLACK_BOT_TOKEN should start with xoxb-" in text
    assert "SLACK_SIGNING_SECRET is required" in text
    assert "OPENAI_API_KEY is not set" in text
    assert "xoxp-a-user-token" not in text


async def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    process = await _tuneops("migrate", env=_env(tmp_path), cwd=tmp_path)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "schema version" in stdout.decode()
    with sqlite3.connect(tmp_path / "service.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"jobs", "watches", "outbox"} <= tables
