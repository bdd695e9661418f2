"""Retries under the emulator's fault injection: what is retried, how long it waits, and what never is."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from bot.finetune.client import FineTuneClient
from bot.finetune.errors import (
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    InternalServerError,
    RateLimitError,
)
from bot.finetune.providers import ProviderConfig
from bot.finetune.spec import ProviderName
from bot.ops.metrics import REGISTRY
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from tests.support.client import (
    EMULATOR_KEY,
    SECONDS_BEFORE_RUNNING,
    SECONDS_PER_STEP,
    RecordedSleeps,
    emulator_provider,
    fast_retry,
    small_job,
)


def api_requests(operation: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "tuneops_api_requests_total", {"operation": operation, "status": status}
    )
    return value or 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_429_waits_as_long_as_the_server_asks(
    finetune_client: FineTuneClient,
    emulator_control: EmulatorControl,
    retry_sleeps: RecordedSleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = await finetune_client.create_job(small_job())
    await emulator_control.set_faults(status=429, count=2, retry_after=2, path_contains="/fine_tuning/jobs/")
    await emulator_control.reset_stats()
    before_429 = api_requests("retrieve_job", "429")

    with caplog.at_level(logging.WARNING, logger="bot.finetune.client"):
        again = await finetune_client.retrieve_job(job.id)

    assert again.id == job.id
    assert retry_sleeps.delays == [2.0, 2.0]
    stats = await emulator_control.stats()
    assert stats["by_operation"]["retrieveFineTuningJob"] == {"200": 1, "429": 2}
    assert api_requests("retrieve_job", "429") - before_429 == 2
    retries = [r.getMessage() for r in caplog.records if r.name == "bot.finetune.client"]
    assert len(retries) == 2
    assert all("retrieve_job" in line and "429" in line and "2.00s" in line for line in retries)
    assert all("request id none" not in line for line in retries)  # the server's request id is quoted
    assert not any(EMULATOR_KEY in line for line in retries)


async def test_a_wait_longer_than_the_bound_is_not_retried(
    emulator: EmulatorServer, emulator_control: EmulatorControl, provider_name: ProviderName
) -> None:
    sleeps = RecordedSleeps()
    policy = fast_retry(sleeps, max_server_delay=5.0)
    async with FineTuneClient(emulator_provider(emulator, provider_name), retry=policy) as client:
        await emulator_control.set_faults(status=429, count=1, retry_after=30)
        with pytest.raises(RateLimitError) as caught:
            await client.list_jobs()

    assert caught.value.status_code == 429
    assert sleeps.delays == []
    assert (await emulator_control.stats())["total"] == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_recovered_with_backoff(
    finetune_client: FineTuneClient,
    emulator_control: EmulatorControl,
    retry_sleeps: RecordedSleeps,
    status: int,
) -> None:
    job = await finetune_client.create_job(small_job())
    await emulator_control.set_faults(status=status, count=2, method="GET")

    page = await finetune_client.list_jobs()

    assert [listed.id for listed in page.data] == [job.id]
    assert len(retry_sleeps.delays) == 2
    assert all(0 < delay <= 0.05 for delay in retry_sleeps.delays)


async def test_retries_give_up_with_the_servers_message(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl, retry_sleeps: RecordedSleeps
) -> None:
    await emulator_control.set_faults(status=503)

    with pytest.raises(InternalServerError) as caught:
        await finetune_client.list_jobs()

    assert caught.value.status_code == 503
    assert str(caught.value) == "The server is overloaded or not ready yet."
    assert caught.value.request_id
    assert len(retry_sleeps.delays) == 3
    assert (await emulator_control.stats())["by_operation"]["listPaginatedFineTuningJobs"] == {"503": 4}


async def test_connection_refused_after_retries(provider_name: ProviderName) -> None:
    port = free_port()
    secret = "sk-do-not-leak-123456"
    provider = (
        ProviderConfig.azure(f"http://127.0.0.1:{port}", secret)
        if provider_name == "azure"
        else ProviderConfig.openai(secret, base_url=f"http://127.0.0.1:{port}/v1")
    )
    sleeps = RecordedSleeps()
    before = api_requests("list_jobs", "error")

    async with FineTuneClient(provider, retry=fast_retry(sleeps)) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.list_jobs()

    assert not isinstance(caught.value, APITimeoutError)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert secret not in str(caught.value)
    assert len(sleeps.delays) == 3
    assert api_requests("list_jobs", "error") - before == 4


async def test_reads_are_retried_after_a_timeout(
    emulator: EmulatorServer, emulator_control: EmulatorControl, provider_name: ProviderName
) -> None:
    sleeps = RecordedSleeps()
    async with FineTuneClient(
        emulator_provider(emulator, provider_name), retry=fast_retry(sleeps), timeout=0.2
    ) as client:
        job = await client.create_job(small_job())
        await emulator_control.set_faults(count=1, latency_ms=500, method="GET")
        again = await client.retrieve_job(job.id)

    assert again.id == job.id
    assert len(sleeps.delays) == 1


async def test_daily_job_limit_is_never_retried(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl, retry_sleeps: RecordedSleeps
) -> None:
    await emulator_control.set_faults(status=429, count=5, code="daily_rate_limit_exceeded", method="POST")

    with pytest.raises(RateLimitError) as caught:
        await finetune_client.create_job(small_job())

    assert caught.value.code == "daily_rate_limit_exceeded"
    assert "per day" in str(caught.value)
    assert retry_sleeps.delays == []
    assert (await emulator_control.stats())["by_operation"]["createFineTuningJob"] == {"429": 1}


async def test_daily_limit_is_not_retried_on_reads_either(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl, retry_sleeps: RecordedSleeps
) -> None:
    await emulator_control.set_faults(status=429, count=5, code="daily_rate_limit_exceeded")

    with pytest.raises(RateLimitError):
        await finetune_client.list_jobs()

    assert retry_sleeps.delays == []


@pytest.mark.parametrize("action", ["pause_job", "resume_job", "cancel_job"])
async def test_state_conflicts_are_not_retried(
    finetune_client: FineTuneClient,
    emulator_control: EmulatorControl,
    retry_sleeps: RecordedSleeps,
    action: str,
) -> None:
    job = await finetune_client.create_job(small_job())
    await emulator_control.set_faults(
        status=409, count=5, method="POST", path_contains=f"/{action.split('_')[0]}"
    )
    await emulator_control.reset_stats()

    with pytest.raises(ConflictError) as caught:
        await getattr(finetune_client, action)(job.id)

    assert caught.value.status_code == 409
    assert retry_sleeps.delays == []
    assert (await emulator_control.stats())["total"] == 1


async def test_pause_is_retried_after_a_transient_server_error(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl, retry_sleeps: RecordedSleeps
) -> None:
    job = await finetune_client.create_job(small_job(steps=50))
    await emulator_control.advance(SECONDS_BEFORE_RUNNING + 3 * SECONDS_PER_STEP)
    await emulator_control.set_faults(status=503, count=1, path_contains="/pause")
    await emulator_control.reset_stats()

    paused = await finetune_client.pause_job(job.id)

    assert paused.status == "paused"
    assert len(retry_sleeps.delays) == 1
    assert (await emulator_control.stats())["by_operation"]["pauseFineTuningJob"] == {"200": 1, "503": 1}


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_create_is_sent_once_when_the_server_may_have_seen_it(
    finetune_client: FineTuneClient,
    emulator_control: EmulatorControl,
    retry_sleeps: RecordedSleeps,
    status: int,
) -> None:
    await emulator_control.set_faults(
        status=status, count=1, method="POST", path_contains="/fine_tuning/jobs"
    )

    with pytest.raises((InternalServerError, RateLimitError)):
        await finetune_client.create_job(small_job())

    assert retry_sleeps.delays == []
    assert (await emulator_control.stats())["by_operation"]["createFineTuningJob"] == {str(status): 1}


async def test_create_is_not_retried_after_a_timeout(
    emulator: EmulatorServer, emulator_control: EmulatorControl, provider_name: ProviderName
) -> None:
    """After a timeout the server may have queued the job: a second create could start a second, billed job."""
    sleeps = RecordedSleeps()
    await emulator_control.set_faults(
        count=5, latency_ms=300, method="POST", path_contains="/fine_tuning/jobs"
    )
    async with FineTuneClient(
        emulator_provider(emulator, provider_name), retry=fast_retry(sleeps), timeout=0.1
    ) as client:
        with pytest.raises(APITimeoutError):
            await client.create_job(small_job())

    assert sleeps.delays == []
    async with httpx.AsyncClient() as http:
        rules = (await http.get(f"{emulator.url}/_emulator/faults")).json()["rules"]
    assert rules[0]["count"] == 4  # exactly one create reached the emulator


async def test_create_is_retried_when_the_connection_was_never_made(provider_name: ProviderName) -> None:
    """The server is down at the first try and up at the second: exactly one job is created."""
    port = free_port()
    server = EmulatorServer(port=port)
    started: list[float] = []

    async def start_server_then_continue(seconds: float) -> None:
        started.append(seconds)
        await server.start()

    provider = emulator_provider(server, provider_name)
    try:
        async with FineTuneClient(provider, retry=fast_retry(start_server_then_continue)) as client:
            job = await client.create_job(small_job())
            jobs = [listed.id async for listed in client.iter_jobs()]
    finally:
        await server.stop()

    assert len(started) == 1
    assert jobs == [job.id]
    assert server.stats.as_json()["by_operation"]["createFineTuningJob"] == {"200": 1}


async def test_uploads_are_retried_after_a_429(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl, retry_sleeps: RecordedSleeps
) -> None:
    await emulator_control.set_faults(
        status=429, count=1, retry_after=1, method="POST", path_contains="/files"
    )

    uploaded = await finetune_client.upload_file("d.jsonl", b'{"messages": []}\n')

    assert uploaded.filename == "d.jsonl"
    assert retry_sleeps.delays == [1.0]
    assert (await emulator_control.stats())["by_operation"]["createFile"] == {"200": 1, "429": 1}
