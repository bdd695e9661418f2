"""Every kind of emulator response validates against the official OpenAPI schemas."""

from __future__ import annotations

from typing import Any

import httpx

from bot.sandbox.emulator.control import EmulatorControl
from tests.support.emulator import SpecSchemas

MODEL = "gpt-4o-mini-2024-07-18"


def assert_valid(schemas: SpecSchemas, name: str, instance: Any) -> None:
    problems = schemas.errors(name, instance)
    assert not problems, f"{name}: {problems}"


async def _create(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {"model": MODEL, "training_file": "file-train-demo", "validation_file": "file-valid-demo", **extra}
    response = await http.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def test_jobs_in_every_status_match_the_job_schema(
    emulator_openai_http: httpx.AsyncClient,
    emulator_control: EmulatorControl,
    openai_spec_schemas: SpecSchemas,
) -> None:
    http = emulator_openai_http
    job = await _create(http, suffix="schema", metadata={"k": "v"})
    seen = {job["status"]}
    assert_valid(openai_spec_schemas, "FineTuningJob", job)
    for seconds in (11, 20, 60):
        await emulator_control.advance(seconds)
        current = (await http.get(f"/fine_tuning/jobs/{job['id']}")).json()
        seen.add(current["status"])
        assert_valid(openai_spec_schemas, "FineTuningJob", current)
    paused = (await http.post(f"/fine_tuning/jobs/{job['id']}/pause")).json()
    assert_valid(openai_spec_schemas, "FineTuningJob", paused)
    resumed = (await http.post(f"/fine_tuning/jobs/{job['id']}/resume")).json()
    assert_valid(openai_spec_schemas, "FineTuningJob", resumed)
    await emulator_control.advance(2000)
    done = (await http.get(f"/fine_tuning/jobs/{job['id']}")).json()
    assert_valid(openai_spec_schemas, "FineTuningJob", done)
    seen |= {paused["status"], resumed["status"], done["status"]}
    assert seen == {"validating_files", "queued", "running", "paused", "succeeded"}

    failing = await _create(http, metadata={"emulator_outcome": "failed"})
    cancelled = (await http.post(f"/fine_tuning/jobs/{(await _create(http))['id']}/cancel")).json()
    await emulator_control.advance(2000)
    failed = (await http.get(f"/fine_tuning/jobs/{failing['id']}")).json()
    assert (failed["status"], cancelled["status"]) == ("failed", "cancelled")
    assert_valid(openai_spec_schemas, "FineTuningJob", failed)
    assert_valid(openai_spec_schemas, "FineTuningJob", cancelled)

    listing = (await http.get("/fine_tuning/jobs", params={"limit": 10})).json()
    assert len(listing["data"]) == 3
    assert_valid(openai_spec_schemas, "ListPaginatedFineTuningJobsResponse", listing)

    events = (await http.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100})).json()
    assert {e["type"] for e in events["data"]} == {"message", "metrics"}
    assert_valid(openai_spec_schemas, "ListFineTuningJobEventsResponse", events)
    for event in events["data"]:
        assert_valid(openai_spec_schemas, "FineTuningJobEvent", event)
    failed_events = (await http.get(f"/fine_tuning/jobs/{failing['id']}/events")).json()
    assert failed_events["data"][0]["level"] == "error"
    assert_valid(openai_spec_schemas, "ListFineTuningJobEventsResponse", failed_events)

    checkpoints = (await http.get(f"/fine_tuning/jobs/{job['id']}/checkpoints")).json()
    assert len(checkpoints["data"]) == 3
    assert_valid(openai_spec_schemas, "ListFineTuningJobCheckpointsResponse", checkpoints)
    for checkpoint in checkpoints["data"]:
        assert_valid(openai_spec_schemas, "FineTuningJobCheckpoint", checkpoint)


async def test_azure_jobs_match_the_job_schema_apart_from_a_null_organization(
    emulator_azure_http: httpx.AsyncClient,
    emulator_control: EmulatorControl,
    openai_spec_schemas: SpecSchemas,
) -> None:
    job = await _create(emulator_azure_http)
    assert job["organization_id"] is None
    assert_valid(openai_spec_schemas, "AzureFineTuningJob", job)
    await emulator_control.advance(2000)
    listing = (await emulator_azure_http.get("/fine_tuning/jobs")).json()
    assert listing["data"][0]["status"] == "succeeded"
    assert_valid(openai_spec_schemas, "AzureListPaginatedFineTuningJobsResponse", listing)


async def test_files_and_errors_match_their_schemas(
    emulator_openai_http: httpx.AsyncClient,
    emulator_control: EmulatorControl,
    openai_spec_schemas: SpecSchemas,
) -> None:
    http = emulator_openai_http
    uploaded = await http.post(
        "/files",
        files={"file": ("mine.jsonl", b'{"messages": []}\n', "application/jsonl")},
        data={
            "purpose": "fine-tune",
            "expires_after[anchor]": "created_at",
            "expires_after[seconds]": "3600",
        },
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["expires_at"] == uploaded.json()["created_at"] + 3600
    assert_valid(openai_spec_schemas, "OpenAIFile", uploaded.json())
    assert_valid(openai_spec_schemas, "OpenAIFile", (await http.get("/files/file-train-demo")).json())

    job = await _create(http)
    await emulator_control.advance(2000)
    results_id = (await http.get(f"/fine_tuning/jobs/{job['id']}")).json()["result_files"][0]
    results = (await http.get(f"/files/{results_id}")).json()
    assert results["purpose"] == "fine-tune-results"
    assert_valid(openai_spec_schemas, "OpenAIFile", results)

    listing = (await http.get("/files")).json()
    assert {f["id"] for f in listing["data"]} >= {"file-train-demo", uploaded.json()["id"], results_id}
    assert_valid(openai_spec_schemas, "ListFilesResponse", listing)

    deleted = (await http.delete(f"/files/{uploaded.json()['id']}")).json()
    assert_valid(openai_spec_schemas, "DeleteFileResponse", deleted)

    errors = [
        await http.get("/fine_tuning/jobs/ftjob-nope"),
        await http.post("/fine_tuning/jobs", json={"training_file": "file-train-demo"}),
        await http.post(f"/fine_tuning/jobs/{job['id']}/pause"),
        await http.get("/fine_tuning/jobs", headers={"Authorization": "Bearer sk-wrong-0000000"}),
        await http.get("/no/such/route"),
    ]
    await emulator_control.set_faults(status=429, count=1, retry_after=2)
    errors.append(await http.get("/fine_tuning/jobs"))
    assert [e.status_code for e in errors] == [404, 400, 400, 401, 404, 429]
    for error in errors:
        assert_valid(openai_spec_schemas, "ErrorResponse", error.json())
