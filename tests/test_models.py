"""Parsing what real OpenAI and Azure servers send and checking create requests before they go out."""

from __future__ import annotations

from bot.finetune.models import Checkpoint, FineTuningJob, JobEvent, Page, StatusGroup
from bot.finetune.spec import JobSpec


def test_job_parses_real_world_quirks() -> None:
    job = FineTuningJob.model_validate(
        {
            "id": "ftjob-1",
            "created_at": 1,
            "status": "pending",
            "error": {},
            "result_files": None,
            "organization_id": None,
            "estimated_finish": 0,
            "brand_new_field": {"x": 1},
        }
    )
    assert job.error is None
    assert job.result_files == []
    assert job.estimated_finish is None
    assert job.hyperparameters is None
    assert job.group is StatusGroup.ACTIVE


def test_status_groups_are_open() -> None:
    def group(status: str) -> StatusGroup:
        return FineTuningJob(id="j", created_at=0, status=status).group

    assert group("paused") is StatusGroup.PARKED
    assert group("cancelled") is StatusGroup.TERMINAL
    assert group("something_new") is StatusGroup.ACTIVE


def test_metrics_event_and_checkpoint() -> None:
    event = JobEvent.model_validate(
        {
            "id": "ev",
            "created_at": 2,
            "level": "info",
            "message": "Step 3/10",
            "type": "metrics",
            "data": {"step": 3, "total_steps": 10, "train_loss": 0.5},
        }
    )
    assert event.metrics is not None and event.metrics.step == 3
    ckpt = Checkpoint.model_validate({"id": "c", "created_at": 1, "metrics": None})
    assert ckpt.metrics.step is None
    page = Page[JobEvent].model_validate({"data": None})
    assert page.data == [] and not page.has_more


def test_spec_reports_every_problem_at_once() -> None:
    spec = JobSpec(
        model="",
        training_file="file-1",
        suffix="has spaces and is rather long for azure which allows forty",
        seed=-1,
        epochs=99,
        batch_size=0,
        lr_multiplier=0.0,
        beta=0.5,
        metadata={f"k{i}": "v" for i in range(17)},
    )
    fields = [field for field, _ in spec.problems("azure")]
    assert fields == ["model", "suffix", "seed", "epochs", "batch_size", "lr_multiplier", "beta", "metadata"]
    assert JobSpec(model="m", training_file="f", suffix="ok").problems("openai") == []


def test_spec_body_uses_method() -> None:
    body = JobSpec(model="m", training_file="f", method="dpo", beta="auto", epochs=3).to_body()
    assert body["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 3, "beta": "auto"}}}
