"""The whole bot, running: the emulator, the Slack stand-in and a `Runtime` serving HTTP on 127.0.0.1.

    async def test_help(bot: BotRig) -> None:
        await bot.slack.sender.slash("help")
        answer = await bot.slack.wait_for(lambda: bot.slack.ephemerals("U_ALICE"))

`start_bot(**overrides)` starts another bot (settings overrides by environment name, e.g.
`TUNEOPS_ADMINS="U_ADMIN"`, and `background=True` for the watcher and notifier); every bot started is
stopped after the test. `bot` is one started with the defaults and `background=False`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.app.runtime import Runtime
from bot.config import Settings, load_settings
from bot.jobs.records import AuditEntry
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.standin.models import ResponsePost, StoredMessage
from bot.sandbox.standin.sender import SentRequest
from bot.services import Services
from storage.store import Store

BASE_MODEL = "gpt-4o-mini-2024-07-18"
CREATE_ARGS = f"model={BASE_MODEL} training_file={DEMO_TRAINING_FILE}"


@dataclass
class BotRig:
    """A running bot and the fakes around it."""

    runtime: Runtime
    slack: SlackStandIn
    emulator: EmulatorServer
    control: EmulatorControl

    @property
    def services(self) -> Services:
        return self.runtime.services

    @property
    def store(self) -> Store:
        return self.runtime.services.store

    async def create_job(
        self, *, user: str = "U_ALICE", channel: str = "C_ML", extra: str = "suffix=rig"
    ) -> tuple[str, StoredMessage]:
        """`/finetune create …` through Slack; returns the job id and its card in the channel."""
        before = len(self.slack.messages(channel))
        sent = await self.slack.sender.slash(f"create {CREATE_ARGS} {extra}", user=user, channel=channel)
        assert sent.status == 200, sent
        await self.answer(sent)  # sent last, after the card and the audit entry
        messages = await self.slack.wait_for(lambda: self.slack.messages(channel)[before:])
        card = messages[0]
        tracked = await self.store.channel_jobs(channel, limit=1)
        assert tracked, "the job was not tracked"
        return tracked[0].job_id, card

    async def job_status_in_emulator(self, job_id: str) -> str:
        return str((await self.services.api.retrieve_job(job_id)).status)

    async def answer(self, sent: SentRequest, timeout: float = 10.0) -> ResponsePost:  # noqa: ASYNC109
        """The bot's post to the response_url of request `sent` (its private answer)."""

        def posted() -> ResponsePost | None:
            return next((p for p in self.slack.responses if p.response_url_id == sent.response_url_id), None)

        assert sent.status == 200, sent
        return await self.slack.wait_for(posted, timeout)

    async def answer_text(self, sent: SentRequest, timeout: float = 10.0) -> str:  # noqa: ASYNC109
        """Everything the private answer to `sent` says, fallback text and blocks."""
        post = await self.answer(sent, timeout)
        return texts_of([post.body])

    async def audit(self, job_id: str, count: int, timeout: float = 10.0) -> list[AuditEntry]:  # noqa: ASYNC109
        """The job's audit entries, oldest first, once there are `count` (a click is audited after the card
        it edits, so a test that saw the card change may have to wait a moment for the entry)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            entries = list(reversed(await self.store.audit_for_job(job_id)))
            if len(entries) >= count or asyncio.get_running_loop().time() >= deadline:
                return entries
            await asyncio.sleep(0.02)

    async def refusal(self, job_id: str, action: str, timeout: float = 10.0) -> AuditEntry:  # noqa: ASYNC109
        """The job's newest refused `action` (a refusal is audited just after its answer is posted, so a test
        that read the answer waits here for the entry rather than racing it)."""

        async def refused() -> AuditEntry | None:
            entries = await self.store.audit_for_job(job_id)  # newest first
            return next((e for e in entries if e.action == action and not e.allowed), None)

        deadline = asyncio.get_running_loop().time() + timeout
        while (entry := await refused()) is None:
            assert asyncio.get_running_loop().time() < deadline, f"no refused {action} audited for {job_id}"
            await asyncio.sleep(0.02)
        return entry

    async def running_job(
        self, *, user: str = "U_ALICE", channel: str = "C_ML", step: int = 3
    ) -> tuple[str, StoredMessage]:
        """A job created through Slack and put into `running` in the emulator (its card still says what
        it said when created: the watcher is not running)."""
        job_id, card = await self.create_job(user=user, channel=channel)
        await self.control.set_job(job_id, status="running", step=step)
        return job_id, card


def bot_settings(emulator: EmulatorServer, slack: SlackStandIn, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "TUNEOPS_PROVIDER": "openai",
        "OPENAI_API_KEY": emulator.api_key,
        "OPENAI_BASE_URL": emulator.openai_base_url,
        "TUNEOPS_DB": str(db),
        "TUNEOPS_ADMINS": "",
        "TUNEOPS_COMMAND": slack.command,
    }
    values.update(overrides)
    return load_settings(**values)


class StartBot(Protocol):
    def __call__(
        self, *, background: bool = False, busy_timeout: float = 10.0, **overrides: Any
    ) -> Awaitable[BotRig]: ...


@pytest.fixture
async def start_bot(
    emulator: EmulatorServer, emulator_control: EmulatorControl, slack: SlackStandIn, tmp_path: Path
) -> AsyncIterator[StartBot]:
    started: list[Runtime] = []

    async def start(*, background: bool = False, busy_timeout: float = 10.0, **overrides: Any) -> BotRig:
        db = tmp_path / f"tuneops-{len(started)}.db"
        settings = bot_settings(emulator, slack, db, **overrides)
        runtime = await Runtime.start(settings, port=0, background=background, busy_timeout=busy_timeout)
        started.append(runtime)
        slack.set_bot_url(runtime.events_url)
        return BotRig(runtime=runtime, slack=slack, emulator=emulator, control=emulator_control)

    try:
        yield start
    finally:
        for runtime in reversed(started):
            await runtime.stop(timeout=5)


@pytest.fixture
async def bot(start_bot: StartBot) -> BotRig:
    """The bot with default settings, no background work: what Slack requests alone do."""
    return await start_bot()


def texts_of(messages: list[Any]) -> str:
    """Every text a person sees in these messages (fallback text and block texts), as one string."""
    parts: list[str] = []
    for message in messages:
        if isinstance(message, dict):
            parts.append(str(message.get("text") or ""))
            parts.extend(_block_texts(message.get("blocks") or []))
            continue
        parts.append(str(getattr(message, "text", "") or ""))
        parts.extend(_block_texts(getattr(message, "blocks", []) or []))
    return "\n".join(parts)


def button_labels(message: Any) -> list[str]:
    """The labels of the buttons on a message (or a message body), in order."""
    labels: list[str] = []
    blocks = message.get("blocks") if isinstance(message, dict) else getattr(message, "blocks", None)
    for block in blocks or []:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if element.get("type") == "button":
                    labels.append(str(element["text"]["text"]))
    return labels


def _block_texts(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_block_texts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_block_texts(item))
    return found
