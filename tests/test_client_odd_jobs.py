"""A job with an odd field is still a job: the client reads it, keeping the odd value as the API sent it.

Real HTTP against the emulator on both providers (`finetune_client`); the emulator's
`set_job_fields` knob sends raw fields over the job's own, or leaves fields out.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.finetune.client import FineTuneClient
from bot.finetune.errors import UnexpectedResponseError
from bot.finetune.models import FineTuningJob
from bot.sandbox.emulator.control import EmulatorControl
from tests.support.client import small_job

ODD_SHAPES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("error-text", {"status": "failed", "error": "Out of quota"}, []),
    ("metadata-number", {"metadata": {"team": 7, "note": {"a": 1}}}, []),
    ("epochs-fraction", {"hyperparameters": {"n_epochs": 3.5, "batch_size": [1]}}, []),
    ("integrations-names", {"integrations": ["wandb"]}, []),
    ("no-created-at", {}, ["created_at"]),
    ("numbers-as-text", {"created_at": "1700000000", "trained_tokens": "many", "seed": 4.0}, []),
]


@pytest.mark.parametrize(
    ("fields", "drop"), [(f, d) for _, f, d in ODD_SHAPES], ids=[n for n, _, _ in ODD_SHAPES]
)
async def test_a_job_with_an_odd_field_is_read_by_retrieve_and_list(
    finetune_client: FineTuneClient,
    emulator_control: EmulatorControl,
    fields: dict[str, Any],
    drop: list[str],
) -> None:
    created = await finetune_client.create_job(small_job(suffix="odd"))
    await emulator_control.set_job_fields(created.id, fields, drop=drop)

    job = await finetune_client.retrieve_job(created.id)
    listed = [j async for j in finetune_client.iter_jobs(page_size=10, max_pages=1)]

    assert job.id == created.id
    assert created.id in [j.id for j in listed]
    assert FineTuningJob.model_validate(job.model_dump(mode="json")) == job  # a snapshot reads back


async def test_odd_values_are_kept_as_sent(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    created = await finetune_client.create_job(small_job(suffix="odd"))
    await emulator_control.set_job_fields(
        created.id,
        {
            "status": "failed",
            "error": "Out of quota",
            "metadata": {"team": 7, "gone": None},
            "hyperparameters": {"n_epochs": 3.5},
            "integrations": ["wandb"],
            "trained_tokens": "many",
        },
        drop=["created_at"],
    )

    job = await finetune_client.retrieve_job(created.id)

    assert job.error is not None and job.error.message == "Out of quota"
    assert job.metadata == {"team": "7"}
    assert job.hyperparameters is not None and job.hyperparameters.n_epochs == 3.5
    assert job.integrations == ["wandb"]
    assert job.trained_tokens is None
    assert job.created_at == 0


async def test_an_answer_about_another_job_is_an_error(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    created = await finetune_client.create_job(small_job(suffix="odd"))
    await emulator_control.set_job_fields(created.id, {"id": "ftjob-someone-else"})

    with pytest.raises(UnexpectedResponseError, match="another job") as read:
        await finetune_client.retrieve_job(created.id)
    assert "may have been done" not in str(read.value)
    with pytest.raises(UnexpectedResponseError, match="the cancel may have been done"):
        await finetune_client.cancel_job(created.id)
