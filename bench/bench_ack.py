"""Acknowledgement latency of `/finetune` commands and card button clicks, TuneOps beside a bare Bolt app.

Both apps are served over HTTP on 127.0.0.1 by one child process (its own event loop, as in production,
where the Slack side is remote); this process plays Slack: the Slack stand-in signs each request, POSTs it
and times the HTTP round trip until the ack, at 1, 10 and 50 concurrent senders. It also hosts the
fine-tuning API emulator the bot calls after its acks.

- command: `/finetune status <job-id>` (TuneOps: parse, permission check against SQLite, ack, then an API
  read, a database write and a private answer); the bare app acks and does nothing else.
- click: the Refresh button of a job card (TuneOps: ack, then an API read, a database write and
  `chat.update`); the bare app acks.

    .venv/bin/python bench/bench_ack.py [--requests 300] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.async_app import AsyncApp  # noqa: E402
from slack_bolt.context.ack.async_ack import AsyncAck  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from bot.app.runtime import Runtime  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.sandbox.emulator.control import EmulatorControl  # noqa: E402
from bot.sandbox.emulator.server import EmulatorServer  # noqa: E402
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE  # noqa: E402
from bot.sandbox.standin import SentRequest, SlackStandIn, StoredMessage  # noqa: E402

CONCURRENCY = (1, 10, 50)
WARMUP = 20


# ---- the child process: both apps, served over HTTP -----------------------------------------------------


def bare_bolt_app(token: str, signing_secret: str, api_url: str) -> AsyncApp:
    """The floor: a Bolt app whose listeners only ack (same client setup, same signature check)."""
    quiet = logging.getLogger("bench.bare")
    quiet.setLevel(logging.ERROR)  # Bolt's "token will be unused" notice (SLACK_BOT_TOKEN is in the env)
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url), signing_secret=signing_secret, logger=quiet
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/finetune")(only_ack)
    app.action("job_refresh")(only_ack)
    return app


async def serve() -> None:
    settings = load_settings()
    runtime = await Runtime.start(settings, port=0, background=False)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bare_bolt = bare_bolt_app(token, secret, settings.slack_api_url)

    async def bare_dispatch(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bare_bolt.async_dispatch(await to_bolt_request(request)))

    bare = web.Application()
    bare.router.add_post("/slack/events", bare_dispatch)
    runner = web.AppRunner(bare, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bare_port = runner.addresses[0][1]
    print(json.dumps({"tuneops": runtime.events_url, "bare": f"http://127.0.0.1:{bare_port}/slack/events"}))
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it
    await runner.cleanup()
    await runtime.stop(timeout=5)


# ---- this process: Slack's side ---------------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    senders: int
    app: str
    requests: int
    median_ms: float
    p99_ms: float
    failed: int


async def measure(
    send: Callable[[], Awaitable[SentRequest]], *, requests: int, senders: int
) -> tuple[list[float], int]:
    latencies: list[float] = []
    failed = 0
    remaining = requests

    async def sender() -> None:
        nonlocal remaining, failed
        while remaining > 0:
            remaining -= 1
            sent = await send()
            if sent.status == 200:
                latencies.append(sent.elapsed * 1000)
            else:
                failed += 1

    await asyncio.gather(*(sender() for _ in range(senders)))
    return latencies, failed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(requests: int) -> list[Row]:
    async with (
        EmulatorServer(api_key="sk-emulator", speed=1.0, seed=0) as emulator,
        SlackStandIn(trigger_ttl=None) as slack,
    ):
        control = EmulatorControl(emulator.url)
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": slack.signing_secret,
                "SLACK_API_URL": slack.api_url,
                "TUNEOPS_PROVIDER": "openai",
                "OPENAI_API_KEY": emulator.api_key,
                "OPENAI_BASE_URL": emulator.openai_base_url,
                "TUNEOPS_DB": str(Path(tmp) / "bench.db"),
                "LOG_LEVEL": "WARNING",
            }
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--serve",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                cwd=tmp,
            )
            assert child.stdout is not None and child.stdin is not None
            urls = json.loads(await child.stdout.readline())
            try:
                return await _measure_all(slack, control, urls, requests)
            finally:
                child.stdin.close()
                await child.wait()
                await control.aclose()


async def _measure_all(
    slack: SlackStandIn, control: EmulatorControl, urls: dict[str, str], requests: int
) -> list[Row]:
    slack.set_bot_url(urls["tuneops"])
    created = await slack.sender.slash(
        f"create model=gpt-4o-mini-2024-07-18 training_file={DEMO_TRAINING_FILE}"
    )
    assert created.status == 200, created
    card: StoredMessage = (await slack.wait_for(lambda: slack.messages("C_ML"), timeout=30))[0]
    job_id = card.text.split("job ")[1].split(":")[0]
    await control.set_job(job_id, status="running", step=3)

    kinds: dict[str, Callable[[], Awaitable[SentRequest]]] = {
        "command": lambda: slack.sender.slash(f"status {job_id}"),
        "click": lambda: slack.sender.click(card, "job_refresh"),
    }
    rows: list[Row] = []
    for kind, send in kinds.items():
        for senders in CONCURRENCY:
            count = requests if senders > 1 else max(50, requests // 3)
            for app in ("bare", "tuneops"):  # side by side, in the same run
                slack.set_bot_url(urls[app])
                await measure(send, requests=WARMUP, senders=min(senders, WARMUP))
                latencies, failed = await measure(send, requests=count, senders=senders)
                rows.append(
                    Row(
                        kind,
                        senders,
                        app,
                        len(latencies),
                        statistics.median(latencies) if latencies else float("nan"),
                        percentile(latencies, 0.99) if latencies else float("nan"),
                        failed,
                    )
                )
                await asyncio.sleep(0.5)  # let the bot finish the work behind the acks before the next round
    return rows


def print_table(rows: list[Row]) -> None:
    print(
        f"{'kind':<8} {'senders':>7} {'app':<8} {'requests':>8} {'median ms':>10} {'p99 ms':>8} {'failed':>6}"
    )
    for row in rows:
        print(
            f"{row.kind:<8} {row.senders:>7} {row.app:<8} {row.requests:>8} "
            f"{row.median_ms:>10.2f} {row.p99_ms:>8.2f} {row.failed:>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per app, kind and concurrency")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return 0
    started = time.perf_counter()
    rows = asyncio.run(run(args.requests))
    print_table(rows)
    print(
        f"({time.perf_counter() - started:.0f} s; latency = HTTP round trip from the signed POST to the ack)"
    )
    if args.json:
        print(json.dumps([asdict(row) for row in rows]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
