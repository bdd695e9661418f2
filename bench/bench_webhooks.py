"""Status change → Slack latency: polling alone against webhooks, through the real app.

    python bench/bench_webhooks.py [--jobs 10] [--interval 10]

For each path: the emulator, the Slack stand-in and the bot (a `Runtime` with its watcher and notifier,
a fresh SQLite file) in this process. `--jobs` jobs are created with `/finetune create` and put to
`running` (the bot reads that, so each is on its normal poll schedule), then each is made to succeed at
a random moment within one poll interval. The latency of a job is from that moment until its success
note is in its thread at the stand-in. Poll-only: the bot's poll interval is `--interval` seconds.
Webhooks: the same interval, and the emulator sends its signed job-end event to the bot, which reads
the job at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.runtime import Runtime
from bot.app.webhooks import WEBHOOKS_PATH
from bot.config import load_settings
from bot.notify.thread_lookup import NOTIFICATION_EVENT
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.emulator.webhooks import new_secret
from bot.sandbox.standin import SlackStandIn

CHANNEL = "C_BENCH"  # + the job's number: one channel each, so Slack's per-channel pacing does not queue them
MODEL = "gpt-4o-mini-2024-07-18"


def _told(slack: SlackStandIn, card: tuple[str, str], status: str) -> bool:
    for message in slack.thread(*card):
        metadata = message.metadata or {}
        if metadata.get("event_type") != NOTIFICATION_EVENT:
            continue
        if str((metadata.get("event_payload") or {}).get("transition", "")).endswith(":" + status):
            return True
    return False


async def _wait(predicate: object, within: float, step: float = 0.005) -> None:
    deadline = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the bench waited too long")
        await asyncio.sleep(step)


async def _new_card(runtime: Runtime, channel: str) -> dict[str, tuple[str, str]]:
    """The job just created from Slack in `channel` and its card, once the card is posted and watched."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for tracked in await runtime.services.store.channel_jobs(channel, limit=1):
            watch = await runtime.services.store.get_watch(tracked.job_id, channel)
            if watch is not None and watch.card_ts is not None:
                return {tracked.job_id: (channel, watch.card_ts)}
        await asyncio.sleep(0.01)
    raise TimeoutError("the created job's card did not appear")


async def run_path(*, webhooks: bool, jobs: int, interval: float, seed: int) -> list[float]:
    """Latencies (seconds) of `jobs` successes told through one path."""
    secret = new_secret()
    with tempfile.TemporaryDirectory(prefix="tuneops-bench-webhooks-") as folder:
        emulator = EmulatorServer(speed=0)  # jobs move only when told to
        slack = SlackStandIn()
        await emulator.start()
        await slack.start()
        settings = load_settings(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=slack.signing_secret,
            SLACK_API_URL=slack.api_url,
            TUNEOPS_PROVIDER="openai",
            OPENAI_API_KEY=emulator.api_key,
            OPENAI_BASE_URL=emulator.openai_base_url,
            TUNEOPS_DB=str(Path(folder) / "bench.db"),
            TUNEOPS_POLL_INTERVAL=interval,
            TUNEOPS_COMMAND=slack.command,
            TUNEOPS_WEBHOOK_SECRET=secret if webhooks else None,
        )
        runtime = await Runtime.start(settings, port=0, background=True)
        slack.set_bot_url(runtime.events_url)
        control = EmulatorControl(emulator.url)
        try:
            if webhooks:
                await control.set_webhook(runtime.url + WEBHOOKS_PATH, secret)
            cards: dict[str, tuple[str, str]] = {}
            for n in range(jobs):
                channel = f"{CHANNEL}{n}"
                await slack.sender.slash(
                    f"create model={MODEL} training_file={DEMO_TRAINING_FILE} suffix=bench{n}",
                    channel=channel,
                )
                cards.update(await _new_card(runtime, channel))
            for job_id in cards:
                await control.set_job(job_id, status="running", step=1)
            # Each job on its ordinary schedule: its running state read by a poll.
            await _wait(
                lambda: all(_told(slack, card, "running") for card in cards.values()), 3 * interval + 30
            )

            rng = random.Random(seed)
            latencies: list[float] = []

            async def one(job_id: str, card: tuple[str, str]) -> None:
                await asyncio.sleep(rng.uniform(0, interval))
                await control.set_job(job_id, status="succeeded")
                changed = time.monotonic()
                await _wait(lambda: _told(slack, card, "succeeded"), 3 * interval + 30)
                latencies.append(time.monotonic() - changed)

            await asyncio.gather(*(one(job_id, card) for job_id, card in cards.items()))
            return latencies
        finally:
            await control.aclose()
            await runtime.stop(timeout=5)
            await slack.stop()
            await emulator.stop()


def _row(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (
        f"| {name:<14} | {len(ordered):>4} | {statistics.median(ordered):>9.3f} | {p90:>9.3f} "
        f"| {ordered[-1]:>9.3f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=10.0, help="the bot's poll interval, seconds")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    poll_only = await run_path(webhooks=False, jobs=args.jobs, interval=args.interval, seed=args.seed)
    with_webhooks = await run_path(webhooks=True, jobs=args.jobs, interval=args.interval, seed=args.seed)
    print(f"status change → success note in Slack, poll interval {args.interval:g} s, {args.jobs} jobs")
    print("| path           | jobs | median s  |    p90 s  |    max s  |")
    print("|----------------|------|-----------|-----------|-----------|")
    print(_row("poll only", poll_only))
    print(_row("webhooks", with_webhooks))


if __name__ == "__main__":
    asyncio.run(main())
