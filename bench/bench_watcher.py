"""Watcher cost per poll cycle: API requests and cycle time for 10, 100 and 1,000 tracked running jobs.

    python bench/bench_watcher.py [--sizes 10 100 1000] [--cycles 3]

For each size: a fresh emulator (in this process, clock frozen) holding that many running jobs, a fresh
SQLite file tracking all of them, and the product's `Watcher` making cycles where every job is due. The
first cycle is cold (no event read yet); the warm figures are the median of `--cycles` more. Requests are
counted by the emulator, per operation.

Beside it, the naive poller: one `retrieve_job` per job per cycle (the "one request per job" count), plus
one events read per job for progress, recording each job — run against the same emulator and store and
counted the same way.

With `--subscriptions`, three channel subscriptions (none matching the bench's jobs) exist from the start,
and before each warm cycle five more jobs are started outside Slack (untracked): the watcher's discovery
then reads the list once per interval as well. The table shows its list pages apart ("disc").

The emulator shares this process and event loop, so cycle times include serving the requests too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.finetune.client import FineTuneClient
from bot.finetune.providers import ProviderConfig
from bot.finetune.spec import JobSpec
from bot.jobs.records import NewJob, Observation, Origin
from bot.jobs.subscriptions import JobFilter
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.emulator.validation import STEPS_KEY
from bot.services import Services
from bot.watch.progress import progress_from
from bot.watch.watcher import Watcher
from storage.sqlite import open_store

INTERVAL = 30.0
NAIVE_CONCURRENCY = 8  # the same number of requests in flight the watcher allows


class ShiftedClock:
    """The service clock, moved forward one poll interval per cycle so every job is due each time."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


async def _requests(control: EmulatorControl) -> dict[str, int]:
    stats = await control.stats()
    return {op: sum(by_status.values()) for op, by_status in stats["by_operation"].items()}


async def _seed(api: FineTuneClient, control: EmulatorControl, services: Services, count: int) -> list[str]:
    ids: list[str] = []
    for n in range(count):
        job = await api.create_job(
            JobSpec(
                model="gpt-4o-mini-2024-07-18",
                training_file=DEMO_TRAINING_FILE,
                suffix=f"bench-{n}",
                metadata={STEPS_KEY: "1000"},
            )
        )
        running = await control.set_job(job.id, status="running", step=5)
        await services.store.track_job(
            NewJob(
                job_id=job.id,
                provider="openai",
                owner_channel=f"C_{n % 50}",
                creator="U_BENCH",
                origin=Origin.COMMAND,
                status="running",
                model=job.model,
                snapshot=running,
            ),
            now=services.clock(),
        )
        ids.append(job.id)
    return ids


async def _naive_cycle(services: Services, ids: list[str]) -> None:
    """What a simple poller does: read every job, then its events, then record it."""
    gate = asyncio.Semaphore(NAIVE_CONCURRENCY)

    async def one(job_id: str) -> None:
        async with gate:
            read_at = services.clock()
            job = await services.api.retrieve_job(job_id)
            tracked = await services.store.get_job(job_id)
            events = await services.api.events_since(job_id, tracked.last_event_id if tracked else None)
        now = services.clock()
        await services.store.record_observation(
            job_id,
            Observation(
                status=job.status,
                progress=progress_from(job, events),
                snapshot=job.model_dump(mode="json"),
                last_event_id=events[-1].id if events else None,
                read_at=read_at,
            ),
            now=now,
            next_poll_at=now + INTERVAL,
        )

    await asyncio.gather(*(one(job_id) for job_id in ids))


OUTSIDE_JOBS_PER_CYCLE = 5


async def _subscribe(services: Services) -> None:
    """Three subscriptions that match none of the bench's jobs (so no card is posted)."""
    filters = (
        JobFilter(meta=(("team", "search"),)),
        JobFilter(model="gpt-4.1", only=frozenset({"failed"})),
        JobFilter(suffix="nightly-"),
    )
    for n, job_filter in enumerate(filters):
        await services.store.add_subscription(
            f"C_SUB{n}", user="U_BENCH", job_filter=job_filter, now=services.clock()
        )


async def _start_outside(api: FineTuneClient, count: int) -> None:
    for _ in range(count):
        await api.create_job(JobSpec(model="gpt-4o-mini-2024-07-18", training_file=DEMO_TRAINING_FILE))


async def measure(size: int, cycles: int, *, subscriptions: bool = False) -> dict[str, object]:
    emulator = EmulatorServer(api_key="sk-bench", speed=0.0)
    await emulator.start()
    control = EmulatorControl(emulator.url)
    workdir = tempfile.TemporaryDirectory()
    store = await open_store(Path(workdir.name) / "bench.db")
    api = FineTuneClient(ProviderConfig.openai("sk-bench", base_url=emulator.openai_base_url))
    clock = ShiftedClock()
    settings = Settings(
        OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=emulator.openai_base_url, TUNEOPS_POLL_INTERVAL=INTERVAL
    )
    services = Services(
        settings=settings,
        store=store,
        api=api,
        slack=AsyncWebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/"),
        clock=clock,
    )
    try:
        if subscriptions:
            await _subscribe(services)
        ids = await _seed(api, control, services, size)
        watcher = Watcher(services)
        discovery_pages: list[int] = []

        async def cycle() -> None:
            result = await watcher.run_cycle()
            discovery_pages.append(result.discovery_pages)

        async def timed(run: Callable[[], object], *, outside: int = 0) -> tuple[float, dict[str, int]]:
            clock.shift += INTERVAL * 20  # past every job's next poll, whatever its status
            await _start_outside(api, outside)
            await control.reset_stats()
            started = time.perf_counter()
            await run()  # type: ignore[misc]
            return time.perf_counter() - started, await _requests(control)

        outside = OUTSIDE_JOBS_PER_CYCLE if subscriptions else 0
        cold_time, cold = await timed(cycle)
        warm = [await timed(cycle, outside=outside) for _ in range(cycles)]
        naive = [await timed(lambda: _naive_cycle(services, ids)) for _ in range(max(1, cycles - 1))]
    finally:
        await api.aclose()
        await store.close()
        await control.aclose()
        await emulator.stop()
        workdir.cleanup()

    warm_requests = warm[len(warm) // 2][1]
    naive_requests = naive[0][1]
    return {
        "jobs": size,
        "discovery": statistics.median(discovery_pages[1:]) if len(discovery_pages) > 1 else 0,
        "cold_discovery": discovery_pages[0] if discovery_pages else 0,
        "cold": cold,
        "cold_time": cold_time,
        "warm": warm_requests,
        "warm_time": statistics.median(t for t, _ in warm),
        "naive": naive_requests,
        "naive_time": statistics.median(t for t, _ in naive),
    }


def _total(requests: dict[str, int]) -> int:
    return sum(requests.values())


def _print(rows: list[dict[str, object]], *, subscriptions: bool) -> None:
    title = "Watcher: API requests per poll cycle (every tracked job running and due), and cycle time"
    if subscriptions:
        title += (
            f"\nwith 3 subscriptions on and {OUTSIDE_JOBS_PER_CYCLE} jobs started outside Slack per cycle"
        )
    print(f"\n{title}\n")
    header = (
        f"{'jobs':>6} | {'list':>5} {'disc':>4} {'single':>6} {'events':>6} {'total':>6} {'cold s':>7} "
        f"{'warm s':>7} |"
        f" {'naive status':>12} {'naive +events':>13} {'naive s':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        warm = row["warm"]
        naive = row["naive"]
        assert isinstance(warm, dict) and isinstance(naive, dict)
        print(
            f"{row['jobs']:>6} | {warm.get('listPaginatedFineTuningJobs', 0):>5} {row['discovery']:>4} "
            f"{warm.get('retrieveFineTuningJob', 0):>6} {warm.get('listFineTuningEvents', 0):>6} "
            f"{_total(warm):>6} {row['cold_time']:>7.2f} {row['warm_time']:>7.2f} |"
            f" {naive.get('retrieveFineTuningJob', 0):>12} {_total(naive):>13} {row['naive_time']:>8.2f}"
        )
    print(
        "\nlist/single/events: the watcher's warm-cycle requests (list pages of 100, discovery's among them as"
        "\n`disc`, single job reads, events"
        "\nreads — at most 100 progress reads a cycle, oldest first). naive status: one retrieve per job;"
        "\nnaive +events: with one events read per job for progress. Cold cycle requests:"
    )
    for row in rows:
        cold = row["cold"]
        assert isinstance(cold, dict)
        print(f"  {row['jobs']:>5} jobs: {cold} (discovery pages: {row['cold_discovery']})")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--subscriptions", action="store_true", help="with subscriptions on (see above)")
    args = parser.parse_args()
    rows = [await measure(size, args.cycles, subscriptions=args.subscriptions) for size in args.sizes]
    _print(rows, subscriptions=args.subscriptions)


if __name__ == "__main__":
    asyncio.run(main())
