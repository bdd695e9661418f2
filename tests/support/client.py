"""Fixtures for driving the fine-tuning client against the emulator, on either provider.

`finetune_client` is parametrised over both providers (OpenAI path with Bearer, Azure path with `api-key`
and `api-version`); its retry policy waits only a few milliseconds and records every wait in `retry_sleeps`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from bot.finetune.client import FineTuneClient
from bot.finetune.providers import ProviderConfig
from bot.finetune.retry import RetryPolicy, Sleep
from bot.finetune.spec import JobSpec, ProviderName
from bot.sandbox.emulator.server import EmulatorServer

EMULATOR_KEY = "sk-emulator"
PROVIDERS: tuple[ProviderName, ...] = ("openai", "azure")


@dataclass
class RecordedSleeps:
    """An injectable `sleep` that records each requested wait and yields only once to the event loop."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def fast_retry(sleeps: Sleep, *, max_retries: int = 3, max_server_delay: float = 60.0) -> RetryPolicy:
    return RetryPolicy(
        max_retries=max_retries, base=0.01, cap=0.05, max_server_delay=max_server_delay, sleep=sleeps
    )


def emulator_provider(
    emulator: EmulatorServer,
    name: ProviderName,
    *,
    api_key: str = EMULATOR_KEY,
    training_type: str | None = None,
) -> ProviderConfig:
    if name == "azure":
        return ProviderConfig.azure(
            emulator.azure_endpoint, api_key, api_version="v1", training_type=training_type
        )
    return ProviderConfig.openai(api_key, base_url=emulator.openai_base_url)


@pytest.fixture
def retry_sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture(params=PROVIDERS)
def provider_name(request: pytest.FixtureRequest) -> ProviderName:
    name: ProviderName = request.param
    return name


@pytest.fixture
async def finetune_client(
    emulator: EmulatorServer, provider_name: ProviderName, retry_sleeps: RecordedSleeps
) -> AsyncIterator[FineTuneClient]:
    provider = emulator_provider(emulator, provider_name)
    async with FineTuneClient(provider, retry=fast_retry(retry_sleeps), timeout=10.0) as client:
        yield client


def small_job(*, steps: int = 30, metadata: dict[str, str] | None = None, **changes: Any) -> JobSpec:
    """A job on the emulator's demo training file that trains `steps` steps (6 emulated seconds each)."""
    spec = JobSpec(
        model="gpt-4o-mini-2024-07-18",
        training_file="file-train-demo",
        metadata={"emulator_total_steps": str(steps), **(metadata or {})},
    )
    return replace(spec, **changes)


# The emulator's default timing: 10 s validating, 20 s queued, then 6 s per step.
SECONDS_BEFORE_RUNNING = 30.0
SECONDS_PER_STEP = 6.0
