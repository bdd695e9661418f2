"""The README's backup recipe: SQLite's online backup of the live WAL database gives a usable copy."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from storage.sqlite import open_store
from tests.support.ops import OpsBot


def _online_backup(source: str, target: Path) -> None:
    # What `sqlite3 tuneops.db ".backup copy.db"` does, through Python's binding of the same API.
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)


async def test_online_backup_of_the_running_bot_holds_its_jobs(ops_bot: OpsBot, tmp_path: Path) -> None:
    slack = ops_bot.slack
    sent = await slack.sender.slash(
        f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE} suffix=backup",
        user="U_ALICE",
        channel="C_OPS",
    )
    assert sent.status == 200
    await slack.wait_for(lambda: slack.messages("C_OPS"))
    await slack.wait_for(lambda: slack.ephemerals("U_ALICE"))  # the private "Started …": audit written by now

    copy_path = tmp_path / "backup.db"
    await asyncio.to_thread(_online_backup, ops_bot.runtime.services.settings.db_path, copy_path)

    copy = await open_store(copy_path)
    try:
        (job,) = await copy.channel_jobs("C_OPS")
        assert job.suffix == "backup"
        assert await copy.audit_for_job(job.job_id)
    finally:
        await copy.close()
