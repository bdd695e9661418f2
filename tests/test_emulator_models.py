"""The emulator refuses what the real API refuses at create: a model it cannot fine-tune, a suffix that
cannot be part of a model id. It serves `GET /models/{id}` so a client can ask first."""

from __future__ import annotations

import httpx
import openai
import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer

JOB = {"training_file": "file-train-demo"}


def _http(emulator: EmulatorServer, flavour: str) -> httpx.AsyncClient:
    if flavour == "azure":
        return httpx.AsyncClient(base_url=emulator.url + "/openai/v1", headers={"api-key": "sk-emulator"})
    return httpx.AsyncClient(
        base_url=emulator.openai_base_url, headers={"Authorization": "Bearer sk-emulator"}
    )


async def test_the_openai_sdk_is_refused_an_unknown_model_with_the_apis_words(
    emulator: EmulatorServer,
) -> None:
    async with openai.AsyncOpenAI(
        base_url=emulator.openai_base_url, api_key="sk-emulator", max_retries=0
    ) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.fine_tuning.jobs.create(model="nonexistent", training_file="file-train-demo")
        jobs = await client.fine_tuning.jobs.list()
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["param"] == "model"
    assert error["code"] == "model_not_available"
    assert error["message"] == "Model nonexistent is not available for fine-tuning or does not exist."
    assert jobs.data == []  # nothing was started


@pytest.mark.parametrize("flavour", ["openai", "azure"])
async def test_azure_and_openai_both_refuse_an_unknown_model(emulator: EmulatorServer, flavour: str) -> None:
    async with _http(emulator, flavour) as http:
        answer = await http.post("/fine_tuning/jobs", json={**JOB, "model": "gpt-9-imaginary"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == "model"
    assert "gpt-9-imaginary" in error["message"]


@pytest.mark.parametrize("suffix", ["has space", "<!channel>", "a:b", "émoji🙂"])
async def test_a_suffix_that_cannot_sit_in_a_model_id_is_refused(
    emulator: EmulatorServer, suffix: str
) -> None:
    async with _http(emulator, "openai") as http:
        answer = await http.post(
            "/fine_tuning/jobs", json={**JOB, "model": "gpt-4o-mini-2024-07-18", "suffix": suffix}
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "suffix"


async def test_good_suffixes_and_aliases_still_train(emulator: EmulatorServer) -> None:
    async with _http(emulator, "openai") as http:
        answer = await http.post(
            "/fine_tuning/jobs", json={**JOB, "model": "gpt-4o-mini", "suffix": "support-bot_v1.2"}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["fine_tuned_model"] is None


async def test_models_can_be_looked_up_and_a_trained_model_can_be_trained_further(
    emulator: EmulatorServer, emulator_control: EmulatorControl
) -> None:
    async with _http(emulator, "openai") as http:
        known = await http.get("/models/gpt-4o-mini-2024-07-18")
        unknown = await http.get("/models/nonexistent")
        job = (await http.post("/fine_tuning/jobs", json={**JOB, "model": "gpt-4o-mini-2024-07-18"})).json()
        await emulator_control.set_job(job["id"], status="succeeded")
        trained = (await http.get(f"/fine_tuning/jobs/{job['id']}")).json()["fine_tuned_model"]
        again = await http.post("/fine_tuning/jobs", json={**JOB, "model": trained})
        listed = (await http.get("/models")).json()["data"]
    assert known.status_code == 200
    assert known.json()["id"] == "gpt-4o-mini-2024-07-18"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"
    assert again.status_code == 200, again.text
    assert trained in {model["id"] for model in listed}
