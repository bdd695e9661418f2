"""Drill: `tuneops run` killed with SIGKILL again and again while jobs change state, then restarted.

The bot runs as a real subprocess (`python -m bot run`) against the emulator and the Slack stand-in of this
test. Its clock is the emulator's, sped up; kill points come from a seeded random generator. Slack answers
posts a little slowly, so a kill often lands while a post is in flight — the window between Slack's `ok`
and the bot's commit that exactly-once has to survive.

Afterwards, for every job and every channel that follows it, the thread must hold exactly one reply per
status change the bot recorded (sequence 1..n, each once), in order, ending with the job's final status in
the emulator; and the statuses told must be a subsequence of the path the emulator took.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.finetune.models import TERMINAL_STATUSES
from bot.finetune.spec import JobSpec
from bot.jobs.records import NewJob, Origin
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.emulator.validation import STEPS_KEY
from bot.sandbox.standin import SlackStandIn
from bot.views.card import card_for
from storage.sqlite import SqliteStore, open_store
from tests.support.background import BASE_MODEL, note_transition, rig_api

REPO = Path(__file__).resolve().parents[1]
SEED = 20240917
JOBS = 24
CHANNELS = [f"C_DRILL{n}" for n in range(6)]
KILL_ROUNDS = 5
PATH = ("validating_files", "queued", "running")


def _bot_env(emulator: EmulatorServer, slack: SlackStandIn, db: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "OPENAI_API_KEY": emulator.api_key,
        "OPENAI_BASE_URL": emulator.openai_base_url,
        "TUNEOPS_DB": str(db),
        "TUNEOPS_POLL_INTERVAL": "0.2",
        "PORT": "0",
        "LOG_LEVEL": "INFO",
    }


async def _start_bot(env: dict[str, str], workdir: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=workdir, env=env, stdout=out, stderr=out
        )


async def _seed_jobs(
    emulator: EmulatorServer, slack: SlackStandIn, db: Path, rng: random.Random
) -> list[str]:
    """Create the jobs in the emulator and track each in a channel with its card (as `/finetune create`)."""
    store = await open_store(db)
    api = rig_api(emulator)
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    job_ids: list[str] = []
    try:
        for n in range(JOBS):
            channel = CHANNELS[n % len(CHANNELS)]
            suffix = f"fail-{n}" if rng.random() < 0.25 else f"drill-{n}"
            job = await api.create_job(
                JobSpec(
                    model=BASE_MODEL,
                    training_file=DEMO_TRAINING_FILE,
                    suffix=suffix,
                    metadata={STEPS_KEY: "20"},
                )
            )
            tracked, _ = await store.track_job(
                NewJob(
                    job_id=job.id,
                    provider="openai",
                    owner_channel=channel,
                    creator=f"U_{n % 5}",
                    origin=Origin.COMMAND,
                    status=job.status,
                    model=job.model,
                    snapshot=job.model_dump(mode="json"),
                ),
                now=time.time(),
            )
            answer = await client.chat_postMessage(
                channel=channel, **card_for(tracked, time.time()).as_kwargs()
            )
            await store.set_card(
                job.id, channel, ts=str(answer["ts"]), version=tracked.version, now=time.time()
            )
            job_ids.append(job.id)
        # A few jobs are followed from a second channel too.
        for job_id in job_ids[:4]:
            followed = await store.get_job(job_id)
            assert followed is not None
            await store.add_watch(job_id, "C_DRILL_WATCH", user="U_WATCHER", now=time.time())
            answer = await client.chat_postMessage(
                channel="C_DRILL_WATCH", **card_for(followed, time.time()).as_kwargs()
            )
            await store.set_card(
                job_id, "C_DRILL_WATCH", ts=str(answer["ts"]), version=followed.version, now=time.time()
            )
    finally:
        await api.aclose()
        await store.close()
    return job_ids


async def _all_told(db: Path, emulator: EmulatorServer, job_ids: list[str]) -> bool:
    """Every job finished in the emulator, its final status recorded, and nothing left in the outbox."""
    store = await SqliteStore.open(db)
    api = rig_api(emulator)
    try:
        for job_id in job_ids:
            tracked = await store.get_job(job_id)
            if tracked is None or tracked.status not in TERMINAL_STATUSES:
                return False
            if (await api.retrieve_job(job_id)).status != tracked.status:
                return False
        stats = await store.outbox_stats(now=time.time())
        return stats.pending == 0
    finally:
        await api.aclose()
        await store.close()


async def _progress(db: Path, slack: SlackStandIn) -> str:
    store = await SqliteStore.open(db)
    try:
        stats = await store.outbox_stats(now=time.time())
        posts = [c.error or "ok" for c in slack.calls_to("chat.postMessage")]
        return f"outbox {stats}; {len(posts)} posts: {sorted(set(posts))}"
    finally:
        await store.close()


@pytest.mark.timeout(150)
async def test_sigkill_again_and_again_loses_and_repeats_nothing(
    emulator: EmulatorServer, emulator_control: EmulatorControl, slack: SlackStandIn, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    db = tmp_path / "tuneops.db"
    log = tmp_path / "bot.log"
    await emulator_control.set_speed(10)  # validating 1 s, queued 2 s, 20 steps of 0.6 s
    job_ids = await _seed_jobs(emulator, slack, db, rng)
    env = _bot_env(emulator, slack, db)
    slack.set_latency(80, method="chat.postMessage")  # posts in flight when the kill comes
    canceller = rig_api(emulator)

    kills = 0
    try:
        for _ in range(KILL_ROUNDS):
            bot = await _start_bot(env, tmp_path, log)
            await asyncio.sleep(rng.uniform(1.5, 3.5))
            if rng.random() < 0.5:  # someone cancels a job from the dashboard meanwhile
                victim = rng.choice(job_ids)
                if (await canceller.retrieve_job(victim)).status not in TERMINAL_STATUSES:
                    await canceller.cancel_job(victim)
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            kills += 1
        bot = await _start_bot(env, tmp_path, log)
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while not await _all_told(db, emulator, job_ids):
                assert bot.returncode is None, log.read_text()[-3000:]
                assert asyncio.get_running_loop().time() < deadline, (
                    f"the bot did not catch up in 60 s: {await _progress(db, slack)}"
                )
                await asyncio.sleep(0.25)
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), timeout=30)
    finally:
        await canceller.aclose()

    assert kills == KILL_ROUNDS
    store = await SqliteStore.open(db)
    api = rig_api(emulator)
    told = 0
    try:
        for job_id in job_ids:
            tracked = await store.get_job(job_id)
            assert tracked is not None
            final = (await api.retrieve_job(job_id)).status
            for watch in await store.watches(job_id):
                assert watch.card_ts is not None
                transitions = [
                    t for m in slack.thread(watch.channel, watch.card_ts) if (t := note_transition(m))
                ]
                seqs = [int(t.partition(":")[0]) for t in transitions]
                statuses = [t.partition(":")[2] for t in transitions]
                # Exactly one reply per recorded change, in order: nothing lost, nothing repeated.
                assert seqs == list(range(1, tracked.status_seq + 1)), (job_id, watch.channel, transitions)
                assert statuses[-1] == final
                path = [*PATH, final]
                positions = [path.index(status) for status in statuses]
                assert positions == sorted(set(positions)), (job_id, statuses)
                told += len(transitions)
    finally:
        await api.aclose()
        await store.close()
    recovered = log.read_text().count("was already in the thread")
    print(f"\ndrill: {kills} SIGKILLs, {told} replies checked, {recovered} found in the thread after a kill")
