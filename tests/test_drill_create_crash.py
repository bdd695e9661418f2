"""Drill: `tuneops run` SIGKILLed in the middle of creates, then started again.

The API starts each job (billed) and Slack holds the card posts, so the kill lands after the API answered
and before the create's work was done (no card, no audit). After the restart every job must be tracked in
its channel, carded once and audited once, and no second job started.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin.server import SlackStandIn
from tests.support.audit import audit_rows
from tests.support.ops import free_port, service_env, sigterm, start_service, wait_healthy

CREATES = 3
CHANNEL = "C_OPS"


def _open_intents(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        return int(db.execute("SELECT count(*) FROM create_intents WHERE closed_at IS NULL").fetchone()[0])


def _jobs_rows(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        return int(db.execute("SELECT count(*) FROM jobs").fetchone()[0])


def _tracked(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as db:
        found = db.execute(
            "SELECT j.job_id FROM jobs j JOIN watches w ON w.job_id = j.job_id AND w.channel = j.owner_channel"
            " WHERE w.card_ts IS NOT NULL"
        ).fetchall()
    return {str(row[0]) for row in found}


async def _until(condition_holds: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):
        while True:
            if condition_holds():
                return
            await asyncio.sleep(0.1)


async def test_jobs_created_while_killed_are_tracked_carded_and_audited_once(
    ops_slack: SlackStandIn, ops_emulator: EmulatorServer, tmp_path: Path
) -> None:
    db_path = tmp_path / "tuneops.db"
    port = free_port()
    env = {**service_env(ops_slack, ops_emulator, db_path), "PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    ops_slack.set_latency(30_000, method="chat.postMessage")
    first = await start_service(env, tmp_path)
    await wait_healthy(url, first)
    ops_slack.set_bot_url(url + "/slack/events")
    for n in range(CREATES):
        command = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=k{n}"
        sent = await ops_slack.sender.slash(command, user="U_ALICE", channel=CHANNEL)
        assert sent.status == 200
    await _until(lambda: len(ops_emulator.state.jobs) == CREATES and _jobs_rows(db_path) == CREATES)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    ops_slack.set_latency(0, method="chat.postMessage")
    assert _tracked(db_path) == set()  # killed before any card was posted

    second = await start_service(env, tmp_path)
    try:
        await wait_healthy(url, second)
        created = set(ops_emulator.state.jobs)
        await _until(
            lambda: _tracked(db_path) == created,
        )
        await _until(lambda: _open_intents(db_path) == 0)
    finally:
        code, output = await sigterm(second)
    assert code == 0, output
    assert len(ops_emulator.state.jobs) == CREATES  # no second job
    cards = [m for m in ops_slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") == "tuneops_card"]
    card_jobs = [m.metadata["event_payload"]["job_id"] for m in cards if m.metadata]
    assert sorted(card_jobs) == sorted(created)  # one card each
    creates = [row for row in audit_rows(db_path, channel=CHANNEL) if row.action == "create" and row.job_id]
    assert sorted(row.job_id for row in creates if row.job_id) == sorted(created)  # audited once each
