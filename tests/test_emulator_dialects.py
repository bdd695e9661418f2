"""Where the Azure dialect differs from OpenAI's: error bodies, unknown create fields, checkpoints of a running job."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.config import load_settings
from bot.finetune.client import FineTuneClient
from bot.finetune.errors import BadRequestError, RateLimitError
from bot.finetune.providers import provider_from_settings
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from tests.support.client import RecordedSleeps, emulator_provider, fast_retry, small_job

JOB = {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-train-demo"}
# 10 s validating + 20 s queued, then 6 s per step: 200 s is mid-training for a 100-step job.
MID_TRAINING = 200
AZURE_ERROR_FIELDS = {"code", "message", "param", "type", "inner_error"}


async def _create(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await http.post("/fine_tuning/jobs", json={**JOB, **extra})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


# ---- error bodies --------------------------------------------------------------------------------------


async def test_azure_errors_have_azure_shape_and_openai_errors_keep_theirs(
    emulator_openai_http: httpx.AsyncClient, emulator_azure_http: httpx.AsyncClient
) -> None:
    azure = await emulator_azure_http.post("/fine_tuning/jobs", json={"training_file": "file-train-demo"})
    openai = await emulator_openai_http.post("/fine_tuning/jobs", json={"training_file": "file-train-demo"})

    assert azure.status_code == openai.status_code == 400
    assert azure.headers["apim-request-id"]
    azure_error = azure.json()["error"]
    assert set(azure_error) == AZURE_ERROR_FIELDS
    assert azure_error["type"] == "error"
    assert azure_error["param"] == "model"
    assert azure_error["code"] == "missing_required_parameter"
    assert azure_error["message"] == "Missing required parameter: 'model'."
    assert isinstance(azure_error["inner_error"], dict)
    assert openai.json() == {
        "error": {
            "message": "Missing required parameter: 'model'.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "missing_required_parameter",
        }
    }


async def test_azure_codes_without_a_specific_code_are_the_status_as_text(
    emulator_azure_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    missing = await emulator_azure_http.get("/no/such/route")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "404"
    assert missing.json()["error"]["param"] is None

    await emulator_control.set_faults(status=429, count=1, retry_after=2)
    limited = await emulator_azure_http.get("/fine_tuning/jobs")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["apim-request-id"]
    error = limited.json()["error"]
    assert set(error) == AZURE_ERROR_FIELDS
    assert (error["code"], error["type"]) == ("429", "error")

    await emulator_control.set_faults(status=500, count=1)
    failed = await emulator_azure_http.get("/fine_tuning/jobs")
    assert failed.json()["error"]["code"] == "500"


async def test_the_client_on_azure_quotes_the_message_and_keeps_code_and_request_id(
    emulator: EmulatorServer, emulator_control: EmulatorControl
) -> None:
    sleeps = RecordedSleeps()
    provider = emulator_provider(emulator, "azure")
    async with FineTuneClient(provider, retry=fast_retry(sleeps, max_retries=0), timeout=10.0) as client:
        await emulator_control.set_faults(
            status=429, count=1, message="Requests have exceeded the rate limit."
        )
        with pytest.raises(RateLimitError) as limited:
            await client.list_jobs()
        job = await client.create_job(small_job())
        await client.cancel_job(job.id)
        with pytest.raises(BadRequestError) as refused:
            await client.cancel_job(job.id)

    assert str(limited.value) == "Requests have exceeded the rate limit."
    assert limited.value.code == "429"
    assert limited.value.request_id
    assert refused.value.code == "invalid_job_state"
    assert str(refused.value) == f"Job {job.id} is cancelled and cannot be cancelled."
    assert refused.value.param == "fine_tuning_job_id"


# ---- unknown create fields -----------------------------------------------------------------------------


async def test_openai_refuses_unknown_create_fields_including_training_type(
    emulator_openai_http: httpx.AsyncClient,
) -> None:
    for name, value in (("trainingType", "Standard"), ("n_epochs", 3)):
        refused = await emulator_openai_http.post("/fine_tuning/jobs", json={**JOB, name: value})
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["message"] == f"Unrecognized request argument supplied: {name}"
        assert error["param"] == name
        assert error["type"] == "invalid_request_error"
    assert (await emulator_openai_http.get("/fine_tuning/jobs")).json()["data"] == []


async def test_azure_accepts_training_type_but_refuses_other_unknown_fields(
    emulator_azure_http: httpx.AsyncClient,
) -> None:
    await _create(emulator_azure_http, trainingType="standard")
    refused = await emulator_azure_http.post("/fine_tuning/jobs", json={**JOB, "training_type": "Standard"})

    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["message"] == "Unrecognized request argument supplied: training_type"
    assert error["param"] == "training_type"
    assert error["type"] == "error"
    assert len((await emulator_azure_http.get("/fine_tuning/jobs")).json()["data"]) == 1


async def test_openai_provider_never_sends_azure_training_type(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))  # no stray .env
    monkeypatch.delenv("TUNEOPS_PROVIDER", raising=False)
    settings = load_settings(
        OPENAI_API_KEY=emulator.api_key,
        OPENAI_BASE_URL=emulator.openai_base_url,
        AZURE_TRAINING_TYPE="GlobalStandard",
    )
    assert settings.provider == "openai"
    assert settings.azure_training_type == "GlobalStandard"

    async with FineTuneClient(provider_from_settings(settings), timeout=10.0) as client:
        job = await client.create_job(small_job(suffix="no-azure-fields"))

    assert job.status == "validating_files"


# ---- checkpoints of a job that is not finished ---------------------------------------------------------


async def test_azure_lists_no_checkpoints_until_the_job_is_terminal(
    emulator_openai_http: httpx.AsyncClient,
    emulator_azure_http: httpx.AsyncClient,
    emulator_control: EmulatorControl,
) -> None:
    steps = {"metadata": {"emulator_total_steps": "100"}, "method": {"type": "supervised"}}
    azure_job = await _create(emulator_azure_http, **steps)
    openai_job = await _create(emulator_openai_http, **steps)
    await emulator_control.advance(MID_TRAINING + 6 * 40)  # past the first of the last three epochs

    azure_path = f"/fine_tuning/jobs/{azure_job['id']}"
    openai_path = f"/fine_tuning/jobs/{openai_job['id']}"
    assert (await emulator_azure_http.get(azure_path)).json()["status"] == "running"
    running = (await emulator_azure_http.get(azure_path + "/checkpoints")).json()
    assert running == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert (await emulator_openai_http.get(openai_path + "/checkpoints")).json()["data"]

    await emulator_control.advance(24 * 3600)
    assert (await emulator_azure_http.get(azure_path)).json()["status"] == "succeeded"
    done = (await emulator_azure_http.get(azure_path + "/checkpoints")).json()
    assert [c["step_number"] for c in done["data"]] == [100, 67, 33]
