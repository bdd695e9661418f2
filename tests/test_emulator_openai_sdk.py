"""The official `openai` package, pointed at the emulator, runs every job operation and parses the answers."""

from __future__ import annotations

import openai
import pytest

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer

MODEL = "gpt-4o-mini-2024-07-18"


def _openai(emulator: EmulatorServer, key: str = "sk-emulator") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=emulator.openai_base_url, api_key=key, max_retries=0)


def _azure(emulator: EmulatorServer, key: str = "sk-emulator") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=emulator.azure_endpoint + "/openai/v1/", api_key=key, max_retries=0)


async def test_sdk_runs_the_whole_job_lifecycle_on_openai_path(
    emulator: EmulatorServer, emulator_control: EmulatorControl
) -> None:
    async with _openai(emulator) as client:
        job = await client.fine_tuning.jobs.create(
            model=MODEL,
            training_file="file-train-demo",
            validation_file="file-valid-demo",
            suffix="support-bot",
            seed=7,
            metadata={"team": "ml"},
            method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
        )
        assert job.id.startswith("ftjob-")
        assert len(job.id) == len("ftjob-") + 24
        assert job.status == "validating_files"
        # The API answers with `user_provided_suffix`; the SDK's model keeps it as an extra field.
        assert (job.model_extra or {}).get("user_provided_suffix") == "support-bot"
        assert job.metadata == {"team": "ml"}
        assert job.seed == 7
        assert job.method is not None and job.method.supervised is not None
        hyper = job.method.supervised.hyperparameters
        assert hyper is not None and hyper.n_epochs == 3 and isinstance(hyper.batch_size, int)

        await emulator_control.advance(30 + 6 * 20 + 1)
        running = await client.fine_tuning.jobs.retrieve(job.id)
        assert running.status == "running"
        assert running.estimated_finish is not None

        listed = await client.fine_tuning.jobs.list(limit=5, metadata={"team": "ml"})
        assert [j.id for j in listed.data] == [job.id]

        events = await client.fine_tuning.jobs.list_events(job.id, limit=50)
        messages = [e.message for e in events.data]
        assert messages[-1] == f"Created fine-tuning job: {job.id}"
        assert "Fine-tuning job started" in messages
        metrics = [e for e in events.data if e.type == "metrics"]
        assert metrics and metrics[0].data is not None

        paused = await client.fine_tuning.jobs.pause(job.id)
        # The SDK's status Literal lacks "paused", which the API does return.
        assert paused.status == "paused"  # type: ignore[comparison-overlap]
        with pytest.raises(openai.BadRequestError) as refused:
            await client.fine_tuning.jobs.pause(job.id)
        assert f"Job {job.id} is paused and cannot be paused" in refused.value.message
        resumed = await client.fine_tuning.jobs.resume(job.id)
        assert resumed.status == "queued"

        await emulator_control.advance(10 + 6 * 100)
        done = await client.fine_tuning.jobs.retrieve(job.id)
        assert done.status == "succeeded"
        assert done.fine_tuned_model is not None
        assert done.fine_tuned_model.startswith(f"ft:{MODEL}:tuneops-emulator:support-bot:")
        checkpoints = await client.fine_tuning.jobs.checkpoints.list(job.id)
        assert [c.step_number for c in checkpoints.data] == [100, 67, 33]

        other = await client.fine_tuning.jobs.create(model=MODEL, training_file="file-train-demo")
        cancelled = await client.fine_tuning.jobs.cancel(other.id)
        assert cancelled.status == "cancelled"
        assert cancelled.finished_at is not None


async def test_sdk_files_create_retrieve_content(emulator: EmulatorServer) -> None:
    content = (
        b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    )
    async with _openai(emulator) as client:
        uploaded = await client.files.create(file=("train.jsonl", content), purpose="fine-tune")
        assert uploaded.filename == "train.jsonl"
        assert uploaded.bytes == len(content)
        again = await client.files.retrieve(uploaded.id)
        assert again.id == uploaded.id and again.purpose == "fine-tune"
        downloaded = await client.files.content(uploaded.id)
        assert downloaded.read() == content
        job = await client.fine_tuning.jobs.create(model=MODEL, training_file=uploaded.id)
        assert job.training_file == uploaded.id


async def test_sdk_on_azure_path_uses_azure_ids(emulator: EmulatorServer) -> None:
    async with _azure(emulator) as client:
        job = await client.fine_tuning.jobs.create(
            model="gpt-4.1-2025-04-14", training_file="file-train-demo"
        )
        assert job.id.startswith("ftjob-") and len(job.id) == len("ftjob-") + 32
        int(job.id.removeprefix("ftjob-"), 16)
        page = await client.fine_tuning.jobs.list()
        assert [j.id for j in page.data] == [job.id]


async def test_sdk_raises_authentication_error_for_a_wrong_key(emulator: EmulatorServer) -> None:
    async with _openai(emulator, key="sk-not-the-right-one") as client:
        with pytest.raises(openai.AuthenticationError) as refused:
            await client.fine_tuning.jobs.list()
    assert refused.value.code == "invalid_api_key"
    assert "sk-not-the-right-one" not in refused.value.message
    async with _azure(emulator, key="wrong") as client:
        with pytest.raises(openai.AuthenticationError):
            await client.fine_tuning.jobs.list()


async def test_azure_uploads_can_be_made_to_wait_for_processing(
    emulator: EmulatorServer, emulator_control: EmulatorControl
) -> None:
    await emulator_control.set_file_processing(5)
    async with _azure(emulator) as client:
        uploaded = await client.files.create(file=("t.jsonl", b'{"messages": []}\n'), purpose="fine-tune")
        # The SDK's file status Literal lacks Azure's "pending".
        assert uploaded.status == "pending"  # type: ignore[comparison-overlap]
        with pytest.raises(openai.BadRequestError) as refused:
            await client.fine_tuning.jobs.create(model="gpt-4.1-2025-04-14", training_file=uploaded.id)
        assert refused.value.code == "file_not_ready"
        await emulator_control.advance(5)
        processed = await client.files.wait_for_processing(
            uploaded.id, poll_interval=0.01, max_wait_seconds=5
        )
        assert processed.status == "processed"
        job = await client.fine_tuning.jobs.create(model="gpt-4.1-2025-04-14", training_file=uploaded.id)
        assert job.training_file == uploaded.id
