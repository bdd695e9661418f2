"""`tuneops sandbox`: the whole product on this machine, no Slack workspace and no API key needed.

Three servers on 127.0.0.1: the fine-tuning API emulator (or the real API when a key is configured), the
Slack stand-in (a fake Slack Web API plus a web page that looks like a channel) and the real bot in HTTP
mode, wired to both, with its watcher and notifier running and a SQLite file. `start_sandbox` builds it
(the browser test uses it directly); `run_sandbox` prints where to go and runs until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.app.health import ops_extension
from bot.app.runtime import Runtime
from bot.app.signals import stopped_by_signals
from bot.app.webhooks import WEBHOOKS_PATH
from bot.config import ConfigError, Settings, load_settings
from bot.ops.logs import setup_logging
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE
from bot.sandbox.emulator.webhooks import new_secret
from bot.sandbox.standin import SlackStandIn

log = logging.getLogger(__name__)

SANDBOX_POLL_INTERVAL = 2.0  # seconds: emulated jobs move fast, so the cards should too
EMULATOR_KEY = "sk-emulator"
BOT_TOKEN = "xoxb-sandbox"
SIGNING_SECRET = "sandbox-signing-secret"
DEMO_MODEL = "gpt-4o-mini-2024-07-18"
STOP_TIMEOUT = 10.0


def real_api_configured(settings: Settings) -> bool:
    """True when the environment (or `.env`) names a real fine-tuning API with its key."""
    if settings.provider == "azure":
        return bool(settings.azure_openai_endpoint and settings.azure_openai_api_key)
    return settings.openai_api_key is not None and bool(settings.openai_api_key.get_secret_value())


@dataclass
class Sandbox:
    slack: SlackStandIn
    runtime: Runtime
    emulator: EmulatorServer | None  # None when the real API is used
    db_path: Path
    api_description: str
    _temp_dir: Path | None = None

    @property
    def page_url(self) -> str:
        return self.slack.url + "/"

    @property
    def command(self) -> str:
        return self.runtime.services.settings.command

    async def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """Bot first (so nothing it does in flight hits a closed fake), then the fakes, then the temp dir."""
        try:
            await self.runtime.stop(timeout=grace)
        finally:
            await self.slack.stop()
            if self.emulator is not None:
                await self.emulator.stop()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)


async def start_sandbox(
    *,
    port: int = 0,
    speed: float = 10.0,
    db: str | None = None,
    use_real_api: bool | None = None,
    poll_interval: float = SANDBOX_POLL_INTERVAL,
    seed: int | None = None,
) -> Sandbox:
    """Start emulator (unless the real API is used), stand-in on `port` and bot; all on 127.0.0.1.

    `use_real_api=None` decides from the environment: a configured OpenAI key or Azure endpoint and key
    means the real API. Slack settings from the environment are ignored: Slack here is always the stand-in.
    `seed=None` seeds the emulator at random, so job ids never repeat those of an earlier run kept in `db`.
    """
    configured = load_settings()
    real = real_api_configured(configured) if use_real_api is None else use_real_api

    temp_dir = None
    if db is None:
        temp_dir = Path(tempfile.mkdtemp(prefix="tuneops-sandbox-"))
        db_path = temp_dir / "tuneops.db"
    else:
        db_path = Path(db)

    emulator: EmulatorServer | None = None
    slack = SlackStandIn(
        host="127.0.0.1",
        port=port,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        command=configured.command,
    )
    try:
        overrides: dict[str, object] = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": None,
            "TUNEOPS_DB": str(db_path),
            "TUNEOPS_POLL_INTERVAL": poll_interval,
        }
        if real:
            api_description = _real_api_description(configured)
        else:
            emulator = EmulatorServer(
                api_key=EMULATOR_KEY,
                speed=speed,
                seed=secrets.randbelow(2**31) if seed is None else seed,
                host="127.0.0.1",
                port=0,
            )
            await emulator.start()
            # The emulator tells the bot each job's end by a signed webhook, as the real services can.
            webhook_secret = new_secret()
            overrides |= {
                "TUNEOPS_WEBHOOK_SECRET": webhook_secret,
                "TUNEOPS_PROVIDER": "openai",
                "OPENAI_API_KEY": EMULATOR_KEY,
                "OPENAI_BASE_URL": emulator.openai_base_url,
                "OPENAI_ORG_ID": None,
                "OPENAI_PROJECT_ID": None,
            }
            api_description = (
                f"the emulator at {emulator.openai_base_url} (jobs run {speed:g}× faster than real ones)"
            )
        await slack.start()
        overrides["SLACK_API_URL"] = slack.api_url
        settings = load_settings(**overrides)
        runtime = await Runtime.start(
            settings, host="127.0.0.1", port=0, background=True, web_extensions=[ops_extension]
        )
        if emulator is not None:
            emulator.webhooks.configure(runtime.url + WEBHOOKS_PATH, webhook_secret)
    except BaseException:
        await slack.stop()
        if emulator is not None:
            await emulator.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    slack.set_bot_url(runtime.events_url)
    return Sandbox(
        slack=slack,
        runtime=runtime,
        emulator=emulator,
        db_path=db_path,
        api_description=api_description,
        _temp_dir=temp_dir,
    )


def _real_api_description(settings: Settings) -> str:
    if settings.provider == "azure":
        return f"the REAL Azure AI Foundry API at {settings.azure_openai_endpoint} (jobs cost money)"
    return f"the REAL OpenAI API at {settings.openai_base_url} (jobs cost money)"


def banner(sandbox: Sandbox) -> str:
    command = sandbox.command
    examples = [
        f"{command} create model={DEMO_MODEL} training_file={DEMO_TRAINING_FILE} suffix=demo",
        f"{command} create model={DEMO_MODEL} training_file={DEMO_TRAINING_FILE} "
        f"validation_file={DEMO_VALIDATION_FILE} epochs=2",
        f"{command} create            (opens the form)",
        f"{command} list",
        f"{command} help",
    ]
    if sandbox.emulator is None:
        examples = [f"{command} list", f"{command} help"]
    lines = [
        "",
        "TuneOps sandbox: the real bot, a local Slack stand-in and "
        + ("the fine-tuning emulator." if sandbox.emulator else "the real fine-tuning API."),
        "",
        f"  Open {sandbox.page_url} in your browser: a Slack-like channel wired to the bot.",
        "",
        f"  Slack            local stand-in at {sandbox.slack.url} (nothing reaches a real workspace)",
        f"  Fine-tuning API  {sandbox.api_description}",
        f"  Bot              {sandbox.runtime.url} (health {sandbox.runtime.url}/healthz, "
        f"metrics {sandbox.runtime.url}/metrics)",
        *(
            [f"  Webhooks         the emulator signs each job's end to {sandbox.emulator.webhooks.url}"]
            if sandbox.emulator is not None and sandbox.emulator.webhooks.configured
            else []
        ),
        f"  Database         {sandbox.db_path}",
        "",
        "  Type in the page's message box, for example:",
        *(f"    {example}" for example in examples),
        "",
        "  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def _can_open_a_browser() -> bool:
    # On a Linux box without a display, webbrowser would start a text browser inside this terminal.
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


async def run_sandbox(
    *,
    port: int,
    speed: float,
    db: str | None,
    open_browser: bool,
    use_real_api: bool | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the sandbox until Ctrl-C or SIGTERM; 0 after a clean stop, 2 on a configuration problem."""
    out = out if out is not None else sys.stdout
    setup_logging(fmt=os.environ.get("LOG_FORMAT", "text"), level=os.environ.get("LOG_LEVEL", "WARNING"))
    try:
        sandbox = await start_sandbox(port=port, speed=speed, db=db, use_real_api=use_real_api)
    except ConfigError as exc:
        print("The sandbox cannot read the configuration in the environment or .env:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"The sandbox could not start: {exc}", file=sys.stderr)
        if port:
            print(f"  Is port {port} taken? Try --port with another number.", file=sys.stderr)
        return 1

    with stopped_by_signals() as stopping:
        try:
            print(banner(sandbox), file=out, flush=True)
            if open_browser and _can_open_a_browser():
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(webbrowser.open, sandbox.page_url)
            await stopping.wait()
            print("stopping the sandbox…", file=out, flush=True)
        finally:
            await sandbox.stop()
    print("stopped.", file=out, flush=True)
    return 0
