"""Notifier throughput: 1,000 jobs across 200 channels change state at once — how long until every
notification is in Slack, beside the floor Slack's pace of one message per second per channel sets.

    python bench/bench_notifier.py [--jobs 1000] [--channels 200] [--changes 1] [--latency-ms 0]

Seeds a fresh SQLite file with the jobs (each with its card already in the Slack stand-in), records one
status change per job (`--changes` per job in a row), then starts the product's `Notifier` with its
production settings (1 message per second per channel, 32 requests in flight, card edits on the Tier 3
budget) and times how long until the outbox is empty. The stand-in runs in this process and records
every post; its pace checker (1 per second, bursts of 3) counts posts that came too fast.

Floor: a channel with k notifications needs (k - 1) seconds after the first at 1 message per second.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.finetune.client import FineTuneClient
from bot.finetune.providers import ProviderConfig
from bot.jobs.records import NewJob, Observation, Origin, Progress
from bot.notify.notifier import Notifier
from bot.sandbox.standin import SlackStandIn
from bot.services import Services
from storage.sqlite import open_store

PATH = ("queued", "running", "succeeded", "failed")


async def run(jobs: int, channels: int, changes: int, latency_ms: float) -> dict[str, float]:
    workdir = tempfile.TemporaryDirectory()
    slack = SlackStandIn()
    await slack.start()
    store = await open_store(Path(workdir.name) / "bench.db")
    api = FineTuneClient(ProviderConfig.openai("sk-unused", base_url="http://127.0.0.1:9/v1"))
    settings = Settings(SLACK_API_URL=slack.api_url, OPENAI_API_KEY="sk-unused")
    services = Services(
        settings=settings,
        store=store,
        api=api,
        slack=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
    )
    notifier = Notifier(services)
    stopping = asyncio.Event()
    try:
        now = time.time()
        for n in range(jobs):
            job_id, channel = f"ftjob-bench{n:05d}", f"C_{n % channels:04d}"
            tracked, _ = await store.track_job(
                NewJob(
                    job_id=job_id,
                    provider="openai",
                    owner_channel=channel,
                    creator=f"U_{n % 40}",
                    origin=Origin.COMMAND,
                    status="validating_files",
                    model="gpt-4o-mini-2024-07-18",
                    snapshot={"id": job_id, "status": "validating_files", "created_at": int(now)},
                ),
                now=now,
            )
            card = slack.workspace.post_message(
                channel, text=f"card {job_id}", blocks=[], user=slack.workspace.bot_user_id, bot=True
            )
            await store.set_card(job_id, channel, ts=card.ts, version=tracked.version, now=now)
        # Every job changes state at once (as a poll after an outage would find them).
        for step in range(changes):
            status = PATH[step % len(PATH)]
            for n in range(jobs):
                job_id = f"ftjob-bench{n:05d}"
                snapshot = {"id": job_id, "status": status, "created_at": int(now)}
                await store.record_observation(
                    job_id,
                    Observation(
                        status=status,
                        progress=Progress(),
                        snapshot=snapshot,
                        details={"job": snapshot},
                        read_at=time.time(),
                    ),
                    now=time.time(),
                    next_poll_at=now + 30,
                )
        slack.reset_records()
        slack.set_latency(latency_ms, method="chat.postMessage")
        total = jobs * changes
        started = time.perf_counter()
        task = asyncio.create_task(notifier.run(stopping))
        while True:
            stats = await store.outbox_stats(now=time.time())
            if stats.pending == 0:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        stopping.set()
        await asyncio.wait_for(task, timeout=10)
        await notifier.drain(5)
        replies = [c for c in slack.calls_to("chat.postMessage") if c.ok and c.args.get("thread_ts")]
        edits = [c for c in slack.calls_to("chat.update") if c.ok]
        per_channel = math.ceil(total / channels)
        return {
            "notifications": total,
            "delivered": len(replies),
            "elapsed": elapsed,
            "floor": float(per_channel - 1),
            "per_channel": per_channel,
            "violations": len(slack.pacing_violations),
            "card_edits": len(edits),
            "given_up": float(stats.given_up),
        }
    finally:
        await store.close()
        await api.aclose()
        await slack.stop()
        workdir.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--changes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latency-ms", type=float, default=0.0, help="Slack's answer time for each post")
    args = parser.parse_args()
    rows = [await run(args.jobs, args.channels, changes, args.latency_ms) for changes in args.changes]

    print(f"\nNotifier: {args.jobs} jobs across {args.channels} channels change state at once")
    print(f"(production pacing: 1 message/s per channel; Slack answer time {args.latency_ms:.0f} ms)\n")
    header = (
        f"{'notifications':>13} {'per channel':>11} {'delivered':>9} {'time s':>7} {'floor s':>7}"
        f" {'over floor s':>12} {'too fast':>8} {'card edits':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['notifications']:>13.0f} {row['per_channel']:>11.0f} {row['delivered']:>9.0f}"
            f" {row['elapsed']:>7.2f} {row['floor']:>7.2f} {row['elapsed'] - row['floor']:>12.2f}"
            f" {row['violations']:>8.0f} {row['card_edits']:>10.0f}"
        )
    print(
        "\nfloor: (notifications per channel − 1) s at one message per second per channel; too fast: posts"
        "\nthe stand-in's per-channel pace checker (1/s, bursts of 3) flagged; card edits: chat.update calls"
        "\nmade meanwhile (Tier 3 budget, 50/min with a burst of 20)."
    )


if __name__ == "__main__":
    asyncio.run(main())
