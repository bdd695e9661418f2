"""A job's life in the emulator, driven by advancing its clock, observed over real HTTP."""

from __future__ import annotations

import base64
import csv
import io
from typing import Any

import httpx

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer

MODEL = "gpt-4o-mini-2024-07-18"


async def _create(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {"model": MODEL, "training_file": "file-train-demo", "validation_file": "file-valid-demo", **extra}
    response = await http.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def _job(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    response = await http.get(f"/fine_tuning/jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


async def _events_oldest_first(http: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"/fine_tuning/jobs/{job_id}/events", params={"limit": 100})
    events: list[dict[str, Any]] = response.json()["data"]
    assert response.json()["has_more"] is False
    return list(reversed(events))


async def test_a_job_walks_through_every_status_and_ends_with_a_model_and_results(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http, suffix="walk", seed=42)
    statuses = [job["status"]]
    steps_seen: list[int] = []
    for _ in range(80):
        await emulator_control.advance(10)
        current = await _job(http, job["id"])
        if current["status"] != statuses[-1]:
            statuses.append(current["status"])
        if current["status"] == "running":
            assert current["estimated_finish"] is not None
            assert current["fine_tuned_model"] is None and current["trained_tokens"] is None
        else:
            assert current["estimated_finish"] is None
        if current["status"] == "succeeded":
            break
    assert statuses == ["validating_files", "queued", "running", "succeeded"]

    done = await _job(http, job["id"])
    assert done["fine_tuned_model"].startswith(f"ft:{MODEL}:tuneops-emulator:walk:")
    assert done["trained_tokens"] > 0
    assert done["finished_at"] >= done["created_at"]
    assert done["error"] is None
    assert done["seed"] == 42

    events = await _events_oldest_first(http, job["id"])
    messages = [e["message"] for e in events]
    expected_order = [
        f"Created fine-tuning job: {job['id']}",
        "Validating training file: file-train-demo and validation file: file-valid-demo",
        "Files validated, moving job to queued state",
        "Fine-tuning job started",
        f"New fine-tuned model created: {done['fine_tuned_model']}",
        "The job has successfully completed",
    ]
    assert [m for m in messages if m in expected_order] == expected_order
    metrics = [e for e in events if e["type"] == "metrics"]
    steps_seen = [e["data"]["step"] for e in metrics]
    assert steps_seen == sorted(steps_seen) and len(set(steps_seen)) == len(steps_seen)
    assert steps_seen[-1] == 100
    first = metrics[0]
    assert first["data"]["total_steps"] == 100
    assert set(first["data"]) >= {
        "step",
        "total_steps",
        "train_loss",
        "valid_loss",
        "train_mean_token_accuracy",
    }
    assert first["message"].startswith(f"Step {first['data']['step']}/100: training loss=")
    assert metrics[-1]["data"]["train_loss"] < metrics[0]["data"]["train_loss"]
    assert [m for m in messages if m.startswith("Checkpoint created at step")] == [
        "Checkpoint created at step 33",
        "Checkpoint created at step 67",
        "Checkpoint created at step 100",
    ]
    created = [e["created_at"] for e in events]
    assert created == sorted(created)

    checkpoints = (await http.get(f"/fine_tuning/jobs/{job['id']}/checkpoints")).json()
    assert [c["step_number"] for c in checkpoints["data"]] == [100, 67, 33]
    assert checkpoints["first_id"] == checkpoints["data"][0]["id"]
    assert checkpoints["last_id"] == checkpoints["data"][-1]["id"]
    assert checkpoints["data"][1]["fine_tuned_model_checkpoint"] == done["fine_tuned_model"] + ":ckpt-step-67"
    assert checkpoints["data"][0]["metrics"]["step"] == 100

    [results_id] = done["result_files"]
    raw = (await http.get(f"/files/{results_id}/content")).content
    assert not raw.startswith(b"step,")  # the OpenAI path reproduces the base64 quirk
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(raw).decode())))
    assert len(rows) == 100
    assert list(rows[0]) == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    assert rows[9]["valid_loss"] != "" and rows[0]["valid_loss"] == ""


async def test_azure_results_file_is_plain_csv_with_azure_columns_and_names(
    emulator_azure_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_azure_http
    job = await _create(http, model="gpt-4.1-2025-04-14")
    await emulator_control.advance(2000)
    done = await _job(http, job["id"])
    assert done["status"] == "succeeded"
    assert done["fine_tuned_model"] == f"gpt-4.1-2025-04-14.ft-{job['id'].removeprefix('ftjob-')}"
    raw = (await http.get(f"/files/{done['result_files'][0]}/content")).content
    header = raw.decode().splitlines()[0]
    assert header.split(",") == [
        "step",
        "train_loss",
        "train_mean_token_accuracy",
        "valid_loss",
        "validation_mean_token_accuracy",
        "full_valid_loss",
        "full_valid_mean_token_accuracy",
    ]
    checkpoints = (await http.get(f"/fine_tuning/jobs/{job['id']}/checkpoints")).json()["data"]
    assert all(c["id"].startswith("ftchkpt-") for c in checkpoints)


async def test_results_encoding_is_a_knob(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    job = await _create(emulator_openai_http)
    await emulator_control.advance(2000)
    results_id = (await _job(emulator_openai_http, job["id"]))["result_files"][0]
    await emulator_control.set_results_base64("never")
    plain = (await emulator_openai_http.get(f"/files/{results_id}/content")).content
    assert plain.startswith(b"step,")


async def test_a_job_marked_to_fail_fails_while_running_with_an_error(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    by_metadata = await _create(http, metadata={"emulator_outcome": "failed"})
    by_suffix = await _create(http, suffix="fail-fast")
    await emulator_control.advance(60)
    assert (await _job(http, by_metadata["id"]))["status"] == "running"
    await emulator_control.advance(2000)
    for job in (by_metadata, by_suffix):
        failed = await _job(http, job["id"])
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "server_error"
        assert failed["error"]["message"]
        assert failed["fine_tuned_model"] is None and failed["result_files"] == []
        assert failed["finished_at"] is not None
        events = await _events_oldest_first(http, job["id"])
        assert events[-1]["level"] == "error"
        assert events[-1]["message"] == failed["error"]["message"]
        last_step = max(e["data"]["step"] for e in events if e["type"] == "metrics")
        assert 0 < last_step < 100


async def test_a_training_file_that_is_not_jsonl_fails_validation(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    upload = await http.post(
        "/files", files={"file": ("bad.jsonl", b"not json at all\n")}, data={"purpose": "fine-tune"}
    )
    job = await _create(http, training_file=upload.json()["id"], validation_file=None)
    await emulator_control.advance(11)
    failed = await _job(http, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "invalid_training_file"
    assert failed["error"]["param"] == "training_file"


async def test_pause_freezes_progress_and_resume_continues_from_the_same_step(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http)
    await emulator_control.advance(30 + 6 * 25 + 1)
    paused = (await http.post(f"/fine_tuning/jobs/{job['id']}/pause")).json()
    assert paused["status"] == "paused"
    assert paused["estimated_finish"] is None
    events_at_pause = await _events_oldest_first(http, job["id"])
    await emulator_control.advance(3600)
    assert (await _job(http, job["id"]))["status"] == "paused"
    assert await _events_oldest_first(http, job["id"]) == events_at_pause
    assert events_at_pause[-1]["message"] == "Fine-tuning job paused at step 25"

    resumed = (await http.post(f"/fine_tuning/jobs/{job['id']}/resume")).json()
    assert resumed["status"] == "queued"
    await emulator_control.advance(10 + 6 * 5 + 1)
    running = await _job(http, job["id"])
    assert running["status"] == "running"
    events = await _events_oldest_first(http, job["id"])
    assert "Fine-tuning job resumed from step 25" in [e["message"] for e in events]
    assert [e["data"]["step"] for e in events if e["type"] == "metrics"][-1] == 30


async def test_wrong_state_operations_answer_400_with_the_real_error_body(
    emulator: EmulatorServer, emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http)
    job_id = job["id"]

    async def refused(action: str) -> dict[str, Any]:
        response = await http.post(f"/fine_tuning/jobs/{job_id}/{action}")
        assert response.status_code == 400, (action, response.text)
        assert response.headers["x-request-id"]
        error: dict[str, Any] = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "invalid_job_state"
        return error

    assert (await refused("pause"))["message"] == f"Job {job_id} is validating_files and cannot be paused."
    assert (await refused("resume"))["message"] == f"Job {job_id} is validating_files and cannot be resumed."
    await emulator_control.advance(31)
    assert "has not trained any steps yet" in (await refused("pause"))["message"]
    await emulator_control.advance(12)
    assert (await refused("resume"))["message"] == f"Job {job_id} is running and cannot be resumed."
    assert (await http.post(f"/fine_tuning/jobs/{job_id}/pause")).status_code == 200
    assert (await refused("pause"))["message"] == f"Job {job_id} is paused and cannot be paused."
    cancelled = (await http.post(f"/fine_tuning/jobs/{job_id}/cancel")).json()
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"] is not None
    assert (await refused("cancel"))["message"] == f"Job {job_id} is cancelled and cannot be cancelled."
    assert (await refused("resume"))["message"] == f"Job {job_id} is cancelled and cannot be resumed."
    await emulator_control.advance(3600)
    assert (await _job(http, job_id))["status"] == "cancelled"
    stats = await emulator_control.stats()
    assert stats["by_operation"]["pauseFineTuningJob"] == {"200": 1, "400": 3}


async def test_cancel_works_from_every_non_terminal_status(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    validating = await _create(http)
    queued = await _create(http)
    await emulator_control.set_job(queued["id"], status="queued")
    running = await _create(http)
    await emulator_control.set_job(running["id"], status="running", step=40)
    paused = await _create(http)
    await emulator_control.set_job(paused["id"], status="paused", step=10)
    for job in (validating, queued, running, paused):
        response = await http.post(f"/fine_tuning/jobs/{job['id']}/cancel")
        assert response.json()["status"] == "cancelled", job


async def test_control_can_set_any_state_including_unlisted_ones(
    emulator_openai_http: httpx.AsyncClient, emulator_control: EmulatorControl
) -> None:
    http = emulator_openai_http
    job = await _create(http)
    shown = await emulator_control.set_job(job["id"], status="pending")
    assert shown["status"] == "pending"
    await emulator_control.advance(3600)
    assert (await _job(http, job["id"]))["status"] == "pending"

    await emulator_control.set_job(job["id"], status="running", step=90)
    await emulator_control.advance(6 * 10 + 1)
    assert (await _job(http, job["id"]))["status"] == "succeeded"

    other = await _create(http)
    error = {
        "code": "invalid_n_examples",
        "message": "Training file has 3 example(s), but must have at least 10.",
        "param": "training_file",
    }
    failed = await emulator_control.set_job(other["id"], status="failed", error=error)
    assert failed["error"] == error
    assert (await _job(http, other["id"]))["error"] == error


async def test_losses_are_deterministic_for_a_seed() -> None:
    async def losses() -> list[float]:
        async with EmulatorServer(seed=3) as server:
            headers = {"Authorization": f"Bearer {server.api_key}"}
            async with httpx.AsyncClient(base_url=server.openai_base_url, headers=headers) as http:
                job = await _create(http, seed=11)
                server.clock.advance(2000)
                events = await _events_oldest_first(http, job["id"])
        return [e["data"]["train_loss"] for e in events if e["type"] == "metrics"]

    first, second = await losses(), await losses()
    assert first == second and len(first) >= 10
