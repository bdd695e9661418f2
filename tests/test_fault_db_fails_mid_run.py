"""The database failing while the bot runs: nothing billed goes untracked, every answer says what happened.

The real Bolt app over HTTP with the emulator and the Slack stand-in, on a real SQLite file. "Failing" is
another process holding the database's write lock longer than the bot waits for it (the bot's writes then
fail, as on a full or read-only disk); the bot waits half a second here instead of ten.

- A create while the database fails is refused before anything reaches the API, in plain words.
- A create whose job the API made before the database failed names the job id and says it was created;
  once the database recovers, the watcher finds the tagged job and tracks it, cards it and audits it once.
- A cancel the API accepted says so, although it could not be recorded; the thread tells the end later.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from tests.support.background import AppRig, fast_background
from tests.support.runtime import StartBot

CHANNEL = "C_ML"
CREATE = f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE}"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


@pytest.fixture
async def rig(start_bot: StartBot) -> AsyncIterator[AppRig]:
    bot = await start_bot(background=False, busy_timeout=0.5, TUNEOPS_POLL_INTERVAL=0.1)
    background = fast_background(bot.services)
    await background.start()
    try:
        yield AppRig(bot=bot, background=background)
    finally:
        await background.stop(timeout=2.0)


@asynccontextmanager
async def database_held(path: Path) -> AsyncIterator[None]:
    """Another connection's write lock on the database: the bot can read it, not write it.

    Taken in a thread: the bot shares this event loop, and may be half-way through a write it can only
    finish (and so let go of the lock) while the loop runs."""
    other = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(sql))


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


def _db(rig: AppRig) -> Path:
    return Path(rig.bot.services.settings.db_path)


async def test_a_create_while_the_database_fails_is_refused_before_the_api_is_called(rig: AppRig) -> None:
    jobs_before = len(rig.bot.emulator.state.jobs)
    async with database_held(_db(rig)):
        sent = await rig.slack.sender.slash(f"{CREATE} suffix=refused", user="U_ALICE", channel=CHANNEL)
        answer = await rig.bot.answer_text(sent)
    assert "The database is failing" in answer
    assert "nothing was sent to the fine-tuning API" in answer
    assert len(rig.bot.emulator.state.jobs) == jobs_before


async def test_a_job_created_as_the_database_failed_is_named_then_tracked_once_it_recovers(
    rig: AppRig,
) -> None:
    db, control = _db(rig), rig.bot.control
    await control.set_faults(latency_ms=1500, path_contains="/fine_tuning/jobs", method="POST")
    sent = await rig.slack.sender.slash(f"{CREATE} suffix=orphan", user="U_ALICE", channel=CHANNEL)
    assert sent.status == 200
    await _until(lambda: bool(_rows(db, "SELECT 1 FROM create_intents")))  # recorded before the call
    async with database_held(db):
        answer = await rig.bot.answer_text(sent)
        (job_id,) = list(rig.bot.emulator.state.jobs)
        assert f"The job {job_id} was created" in answer
        assert "could not record it" in answer
        assert _rows(db, "SELECT job_id FROM jobs") == []
    await control.clear_faults()

    # The database is back: the next cycles find the job by its tag, and finish the create once.
    def carded() -> list[str]:
        return [
            str(m.metadata["event_payload"]["job_id"])
            for m in rig.slack.messages(CHANNEL)
            if m.metadata and m.metadata.get("event_type") == "tuneops_card"
        ]

    await _until(lambda: carded() == [job_id])
    await _until(lambda: not _rows(db, "SELECT 1 FROM create_intents WHERE closed_at IS NULL"))
    assert _rows(db, "SELECT job_id, owner_channel, creator FROM jobs") == [(job_id, CHANNEL, "U_ALICE")]
    audited = _rows(db, "SELECT job_id FROM audit_log WHERE action = 'create' AND job_id IS NOT NULL")
    assert audited == [(job_id,)]
    assert len(rig.bot.emulator.state.jobs) == 1
    await asyncio.sleep(0.5)  # a few more cycles: still one card
    assert carded() == [job_id]


async def test_a_cancel_the_api_accepted_says_so_though_it_could_not_be_recorded(rig: AppRig) -> None:
    db, control = _db(rig), rig.bot.control
    job_id, card = await rig.bot.create_job(user="U_ALICE", channel=CHANNEL, extra="suffix=cancelme")
    await control.advance(30)
    await rig.slack.wait_for(lambda: any(t.endswith(":running") for t in rig.transitions(CHANNEL, card.ts)))
    await control.set_faults(latency_ms=1500, path_contains=f"{job_id}/cancel", method="POST")
    sent = await rig.slack.sender.slash(f"cancel {job_id}", user="U_ALICE", channel=CHANNEL)
    assert sent.status == 200
    await asyncio.sleep(0.5)  # the cancel is at the API now
    async with database_held(db):
        answer = await rig.bot.answer_text(sent)
    assert f"The cancel of {job_id} was accepted by the API" in answer
    assert "could not record it" in answer
    await control.clear_faults()
    await rig.slack.wait_for(lambda: rig.transitions(CHANNEL, card.ts)[-1].endswith(":cancelled"), timeout=30)
