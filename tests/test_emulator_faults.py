"""The emulator's control knobs over HTTP: rate-limit and server-error faults, latency, stats, reset and
the speed of its clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.sandbox.emulator.control import EmulatorControl, EmulatorControlError
from bot.sandbox.emulator.server import EmulatorServer

MODEL = "gpt-4o-mini-2024-07-18"
JOB = {"model": MODEL, "training_file": "file-train-demo"}


async def _create(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await http.post("/fine_tuning/jobs", json={**JOB, **extra})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def test_rate_limit_faults_carry_retry_after_headers_and_run_out(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    await emulator_control.set_faults(status=429, count=2, retry_after=1.5)
    answers = [await http.get("/fine_tuning/jobs") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    limited = answers[0]
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["retry-after-ms"] == "1500"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    stats = await emulator_control.stats()
    assert stats["by_operation"]["listPaginatedFineTuningJobs"] == {"200": 1, "429": 2}
    assert stats["faults_injected"] == 2


async def test_daily_limit_and_server_errors_only_where_the_path_matches(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    await emulator_control.set_faults(
        status=429, code="daily_rate_limit_exceeded", path_contains="/fine_tuning/jobs", method="POST"
    )
    refused = await http.post("/fine_tuning/jobs", json=JOB)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "daily_rate_limit_exceeded"
    assert "retry-after" not in refused.headers
    assert (await http.get("/fine_tuning/jobs")).status_code == 200
    assert (await http.get("/files")).status_code == 200

    for status in (500, 503):
        await emulator_control.set_faults(status=status, count=1)
        failed = await http.get("/files")
        assert failed.status_code == status
        assert failed.json()["error"]["type"] == "server_error"
        assert (await http.get("/files")).status_code == 200


async def test_fault_rates_latency_and_clearing(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    await emulator_control.set_faults(status=500, rate=0.0)
    assert all([(await http.get("/files")).status_code == 200 for _ in range(5)])
    await emulator_control.set_faults(status=503, rate=0.5)
    codes = {(await http.get("/files")).status_code for _ in range(40)}
    assert codes == {200, 503}
    await emulator_control.set_faults(latency_ms=5)
    assert (await http.get("/files")).status_code == 200
    await emulator_control.clear_faults()
    assert all([(await http.get("/files")).status_code == 200 for _ in range(5)])
    with pytest.raises(EmulatorControlError):
        await emulator_control.set_faults(status=418)


async def test_faults_do_not_bypass_auth(emulator: EmulatorServer, emulator_control: EmulatorControl) -> None:
    await emulator_control.set_faults(status=500)
    async with httpx.AsyncClient(base_url=emulator.openai_base_url) as http:
        response = await http.get("/files")
    assert response.status_code == 401


async def test_reset_forgets_jobs_uploads_faults_and_stats(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http)
    await http.post("/files", files={"file": ("a.jsonl", b"{}\n")}, data={"purpose": "fine-tune"})
    await emulator_control.set_faults(status=500, count=100, path_contains="/files")
    await emulator_control.reset()
    assert (await http.get(f"/fine_tuning/jobs/{job['id']}")).status_code == 404
    files = (await http.get("/files")).json()["data"]
    assert {f["id"] for f in files} == {"file-train-demo", "file-valid-demo"}
    stats = await emulator_control.stats()
    assert stats["total"] == 2
    await emulator_control.reset_stats()
    assert (await emulator_control.stats())["total"] == 0


async def test_speed_makes_jobs_progress_with_real_time(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    await emulator_control.set_speed(0)
    job = await _create(emulator_openai_http)
    await emulator_control.advance(11)
    assert (await emulator_openai_http.get(f"/fine_tuning/jobs/{job['id']}")).json()["status"] == "queued"
    await emulator_control.set_speed(100_000_000)
    moved = (await emulator_openai_http.get(f"/fine_tuning/jobs/{job['id']}")).json()
    assert moved["status"] == "succeeded"
    with pytest.raises(EmulatorControlError):
        await emulator_control.set_speed(-1)
