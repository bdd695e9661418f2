"""How long the Home tab and the daily digest take to build and deliver, against the Slack stand-in and a
real SQLite file seeded with many jobs.

- home: one person with `--own` jobs of their own (half finished) in a workspace of `--channels` channels
  with `--per-channel` active jobs each; time from "publish" to Slack's `ok` to `views.publish` (the
  channel list from `users.conversations`, the store's reads, the view drawn through `fit`).
- digest: every channel has a digest due; one pass of the schedule loop queues and posts them all.

    .venv/bin/python bench/bench_home.py [--own 40] [--channels 50] [--per-channel 10] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.finetune.client import FineTuneClient  # noqa: E402
from bot.finetune.providers import ProviderConfig  # noqa: E402
from bot.home.publisher import HomePublisher  # noqa: E402
from bot.jobs.records import NewJob, Origin  # noqa: E402
from bot.sandbox.standin import SlackStandIn  # noqa: E402
from bot.schedule.loop import ScheduleLoop  # noqa: E402
from bot.schedule.times import DailyTime  # noqa: E402
from bot.services import Services  # noqa: E402
from storage.sqlite import open_store  # noqa: E402


async def seed(services: Services, *, own: int, channels: int, per_channel: int) -> None:
    store, now = services.store, time.time() - 3600
    for n in range(own):
        finished = n % 2 == 1
        snapshot: dict[str, object] = {
            "id": f"ftjob-own{n:05d}",
            "status": "succeeded" if finished else "running",
            "model": "gpt-4o-mini-2024-07-18",
            "created_at": int(now),
            "finished_at": int(now) + 600 if finished else None,
            "trained_tokens": 1_000_000 if finished else None,
            "fine_tuned_model": f"ft:gpt-4o-mini-2024-07-18:org:own:{n}" if finished else None,
        }
        await store.track_job(
            NewJob(
                job_id=str(snapshot["id"]),
                provider="openai",
                owner_channel=f"C{n % max(channels, 1):05d}",
                creator="U_ALICE",
                origin=Origin.COMMAND,
                status=str(snapshot["status"]),
                model="gpt-4o-mini-2024-07-18",
                snapshot=snapshot,
            ),
            now=now,
        )
    for c in range(channels):
        for n in range(per_channel):
            job_id = f"ftjob-c{c:04d}n{n:03d}"
            await store.track_job(
                NewJob(
                    job_id=job_id,
                    provider="openai",
                    owner_channel=f"C{c:05d}",
                    creator="U_BOB",
                    origin=Origin.COMMAND,
                    status="running",
                    model="gpt-4o-mini-2024-07-18",
                    snapshot={"id": job_id, "status": "running", "model": "gpt-4o-mini-2024-07-18"},
                ),
                now=now,
            )


async def main(own: int, channels: int, per_channel: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with SlackStandIn() as slack:
            for c in range(channels):
                slack.workspace.add_channel(f"C{c:05d}", f"team-{c}")
            store = await open_store(Path(folder) / "bench.db")
            settings = Settings(
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_API_URL=slack.api_url,
                OPENAI_API_KEY="sk-unused",
                TUNEOPS_DB=str(Path(folder) / "bench.db"),
            )
            api = FineTuneClient(ProviderConfig.openai("sk-unused", base_url="http://127.0.0.1:9/v1"))
            client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
            services = Services(settings=settings, store=store, api=api, slack=client)
            try:
                started = time.perf_counter()
                await seed(services, own=own, channels=channels, per_channel=per_channel)
                seeded = time.perf_counter() - started
                publisher = HomePublisher(services)
                timings = []
                for _ in range(rounds):
                    begin = time.perf_counter()
                    assert await publisher.publish("U_ALICE")
                    timings.append((time.perf_counter() - begin) * 1000)
                view = slack.workspace.home.view("U_ALICE") or {}
                print(
                    f"seeded {own + channels * per_channel} jobs in {seeded:.1f} s; "
                    f"home view: {len(view.get('blocks', []))} blocks"
                )
                print(
                    f"home publish ({own} own jobs, {channels} channels x {per_channel} active): "
                    f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms over {rounds}"
                )

                for c in range(channels):
                    await store.set_digest(
                        f"C{c:05d}", DailyTime(clock_time(9, 0)), user="U_ALICE", now=time.time() - 86_400 * 2
                    )
                due = DailyTime(clock_time(9, 0)).latest(time.time())[1]
                loop = ScheduleLoop(dataclasses.replace(services, clock=lambda: max(due, time.time()) + 1))
                begin = time.perf_counter()
                await loop.queue_due_digests()
                queued = time.perf_counter() - begin
                sent = 0
                begin = time.perf_counter()
                while True:
                    batch = await loop.run_once()
                    sent += batch
                    if not batch:
                        break
                delivered = time.perf_counter() - begin
                print(
                    f"digests: {channels} queued in {queued * 1000:.0f} ms, {sent} posted in "
                    f"{delivered * 1000:.0f} ms"
                )
            finally:
                await api.aclose()
                await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--own", type=int, default=40)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--per-channel", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.own, args.channels, args.per_channel, args.rounds))
