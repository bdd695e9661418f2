"""Fixtures for the operations tests: the Slack stand-in and the emulator wired for `tuneops run`/`check`,
and helpers that run `tuneops run` or `tuneops sandbox` as a process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app.health import ops_extension
from bot.app.runtime import Runtime
from bot.config import Settings
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.server import SlackStandIn

OPS_BOT_TOKEN = "xoxb-ops-0000-secretbottoken"
OPS_APP_TOKEN = "xapp-1-A_OPS-0000-secretapptoken"
OPS_SIGNING_SECRET = "ops-signing-secret-0123456789"
OPS_API_KEY = "sk-ops-emulator-key-0123456789"


@pytest.fixture
async def ops_slack() -> AsyncIterator[SlackStandIn]:
    """The Slack stand-in (fake Web API, Socket Mode peer, channel page) on an ephemeral port, accepting
    the ops tokens."""
    async with SlackStandIn(
        bot_token=OPS_BOT_TOKEN, app_token=OPS_APP_TOKEN, signing_secret=OPS_SIGNING_SECRET
    ) as slack:
        yield slack


@pytest.fixture
async def socket_slack() -> AsyncIterator[SlackStandIn]:
    """The stand-in as above, its sender delivering over the app's Socket Mode connection."""
    async with SlackStandIn(
        bot_token=OPS_BOT_TOKEN, app_token=OPS_APP_TOKEN, signing_secret=OPS_SIGNING_SECRET, socket_mode=True
    ) as slack:
        yield slack


@pytest.fixture
async def ops_emulator() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(api_key=OPS_API_KEY, speed=1.0, seed=0) as server:
        yield server


def socket_service_env(
    slack: SlackStandIn, emulator: EmulatorServer, db_path: Path, port: int
) -> dict[str, str]:
    """The environment of a `tuneops run` in Socket Mode (no signing secret) on the stand-in."""
    return {
        "SLACK_BOT_TOKEN": OPS_BOT_TOKEN,
        "SLACK_APP_TOKEN": OPS_APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "OPENAI_API_KEY": OPS_API_KEY,
        "OPENAI_BASE_URL": emulator.openai_base_url,
        "TUNEOPS_DB": str(db_path),
        "PORT": str(port),
    }


def service_env(slack: SlackStandIn, emulator: EmulatorServer, db_path: Path) -> dict[str, str]:
    """The environment of a `tuneops run`/`check` wired to the stand-in and the emulator."""
    return {
        "SLACK_BOT_TOKEN": OPS_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": OPS_SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "TUNEOPS_PROVIDER": "openai",
        "OPENAI_API_KEY": OPS_API_KEY,
        "OPENAI_BASE_URL": emulator.openai_base_url,
        "TUNEOPS_DB": str(db_path),
        "TUNEOPS_POLL_INTERVAL": "1",
        "PORT": "0",
    }


# Every variable TuneOps reads, from the settings model itself, so a new setting is never missed.
CONFIG_VARIABLES = tuple(str(field.alias) for field in Settings.model_fields.values() if field.alias)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No TuneOps variable from the outside, and a working directory with no `.env` file."""
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@dataclass
class OpsBot:
    """A running bot (background on) with `/healthz` and `/metrics`, and an HTTP client for them."""

    runtime: Runtime
    slack: SlackStandIn
    emulator: EmulatorServer
    control: EmulatorControl
    http: aiohttp.ClientSession

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.runtime.url + "/healthz") as response:
            return response.status, await response.json()

    async def metrics(self) -> str:
        async with self.http.get(self.runtime.url + "/metrics") as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            return await response.text()


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@pytest.fixture
async def ops_bot(
    emulator: EmulatorServer, emulator_control: EmulatorControl, slack: SlackStandIn, tmp_path: Path
) -> AsyncIterator[OpsBot]:
    from tests.support.runtime import bot_settings  # here: the plugin must be registered before import

    settings = bot_settings(emulator, slack, tmp_path / "tuneops.db", TUNEOPS_POLL_INTERVAL="0.2")
    runtime = await Runtime.start(settings, port=0, background=True, web_extensions=[ops_extension])
    slack.set_bot_url(runtime.events_url)
    try:
        async with aiohttp.ClientSession() as http:
            yield OpsBot(runtime=runtime, slack=slack, emulator=emulator, control=emulator_control, http=http)
    finally:
        await runtime.stop(timeout=5)


async def start_service(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`python -m bot run` with only `env`'s settings (none from the outside), output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=outside_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> dict[str, object]:
    """Poll `url/healthz` until it answers 200; returns its body."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(60):
        while True:
            assert process.returncode is None, "the service exited early"
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        body: dict[str, object] = await response.json()
                        return body
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


async def sigterm(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """SIGTERM, then the exit code and everything the process printed."""
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def outside_env(**extra: str) -> dict[str, str]:
    """This process's environment without any TuneOps, Slack, OpenAI or Azure setting, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return {**kept, **extra}


@dataclass
class SandboxProcess:
    process: asyncio.subprocess.Process
    page_url: str
    bot_url: str
    output: list[str]

    async def terminate(self) -> int:
        """SIGTERM, then the exit code (the sandbox must stop by itself within the bound)."""
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            rest, _ = await self.process.communicate()
        self.output.extend(rest.decode().splitlines())
        assert self.process.returncode is not None
        return self.process.returncode


async def start_sandbox_process(
    command: list[str],
    *,
    port: int,
    cwd: Path,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> SandboxProcess:
    """Start `tuneops sandbox` (`command` is how to run `tuneops`) and wait for its banner."""
    process = await asyncio.create_subprocess_exec(
        *command,
        "sandbox",
        "--port",
        str(port),
        "--no-browser",
        *(extra_args or []),
        cwd=cwd,
        env=env if env is not None else outside_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    output: list[str] = []
    page_url = bot_url = ""
    async with asyncio.timeout(60):
        while not output or "Ctrl-C stops everything" not in output[-1]:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise AssertionError("the sandbox exited before printing its banner:\n" + "\n".join(output))
            output.append(line.rstrip("\n"))
            words = line.split()
            if line.strip().startswith("Open "):
                page_url = words[1]
            if line.strip().startswith("Bot "):
                bot_url = words[1]
    return SandboxProcess(process=process, page_url=page_url, bot_url=bot_url, output=output)
