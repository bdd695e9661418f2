"""Crash drill: a writer process killed with SIGKILL at random points, several rounds, then the file reopened."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from storage.sqlite import open_store
from tests.storage_crash_writer import SHARED_CHANNEL, owner_channel
from tests.support.storage import assert_database_consistent, seen

REPO = Path(__file__).resolve().parents[1]
WRITER = Path(__file__).with_name("storage_crash_writer.py")
ROUNDS = 8


async def _run_until_killed(db: Path, *, seed: int, commits: int, linger: float) -> tuple[list[str], bytes]:
    """Start the writer; once it reported `commits` commits, let it write `linger` seconds more and SIGKILL
    it (wherever it is in its work by then). Returns the lines it printed and its stderr.

    Counting commits rather than seconds from the start: a slow start (a loaded machine) only delays the
    kill, it never comes before the writer wrote anything."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(db),
        "--seed",
        str(seed),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    lines: list[str] = []
    enough = asyncio.Event()

    async def read(stream: asyncio.StreamReader) -> None:
        reported = 0
        async for line in stream:
            lines.append(line.decode())
            reported += line.startswith(b"committed ")
            if reported >= commits:
                enough.set()

    reader = asyncio.create_task(read(process.stdout))
    try:
        await asyncio.wait_for(enough.wait(), timeout=60)
        await asyncio.sleep(linger)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader
    errors = await process.stderr.read()
    assert process.returncode == -signal.SIGKILL, errors.decode()  # it was still writing when killed
    return lines, errors


async def test_committed_transitions_survive_sigkill_and_nothing_is_duplicated(store_path: Path) -> None:
    rng = random.Random(3)
    committed: list[tuple[str, int, str]] = []
    for round_number in range(ROUNDS):
        lines, _ = await _run_until_killed(
            store_path, seed=round_number, commits=rng.randint(1, 20), linger=rng.uniform(0.0, 0.3)
        )
        reported = [line.split() for line in lines if line.startswith("committed ")]
        committed += [(job_id, int(seq), status) for _, job_id, seq, status in reported]
    print(f"{len(committed)} transitions reported committed over {ROUNDS} rounds")

    jobs = assert_database_consistent(store_path)

    # Every reported transition is in the outbox once for the owner channel and once for the shared one.
    found = _outbox_transitions(store_path)
    for job_id, seq, status in committed:
        assert jobs[job_id][0] >= seq
        channels = [channel for j, channel, t in found if j == job_id and t == f"{seq}:{status}"]
        assert sorted(channels) == sorted([SHARED_CHANNEL, _owner(job_id)])

    store = await open_store(store_path)
    try:
        # The file takes new writes after all the crashes.
        some_job = committed[0][0]
        change = await store.record_observation(some_job, seen("succeeded"), now=1.0, next_poll_at=2.0)
        assert change is not None
        assert change.seq == jobs[some_job][0] + 1
    finally:
        await store.close()
    assert_database_consistent(store_path)


def _outbox_transitions(path: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return [(j, c, t) for j, c, t in db.execute("SELECT job_id, channel, transition FROM outbox")]


def _owner(job_id: str) -> str:
    return owner_channel(int(job_id.rsplit("-", 1)[1]))
