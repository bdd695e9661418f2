"""Files: upload (multipart), retrieve, download, and the results CSV plain or base64, on both providers."""

from __future__ import annotations

import json

import pytest

from bot.finetune.client import FineTuneClient
from bot.finetune.errors import BadRequestError, NotFoundError
from bot.sandbox.emulator.control import EmulatorControl
from tests.support.client import SECONDS_BEFORE_RUNNING, SECONDS_PER_STEP, small_job

TRAINING_LINES = b"".join(
    json.dumps(
        {"messages": [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": f"a{n}"}]}
    ).encode()
    + b"\n"
    for n in range(12)
)


async def test_upload_retrieve_download_and_train_on_it(finetune_client: FineTuneClient) -> None:
    uploaded = await finetune_client.upload_file("my-data.jsonl", TRAINING_LINES)

    assert uploaded.id.startswith("file")
    assert uploaded.filename == "my-data.jsonl"
    assert uploaded.purpose == "fine-tune"
    assert uploaded.bytes == len(TRAINING_LINES)

    retrieved = await finetune_client.retrieve_file(uploaded.id)
    assert retrieved.id == uploaded.id
    assert retrieved.filename == "my-data.jsonl"

    assert await finetune_client.download_file(uploaded.id) == TRAINING_LINES

    job = await finetune_client.create_job(small_job(training_file=uploaded.id))
    assert job.training_file == uploaded.id


async def test_upload_with_an_unknown_purpose_is_refused(finetune_client: FineTuneClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        await finetune_client.upload_file("x.jsonl", TRAINING_LINES, purpose="nonsense")

    assert caught.value.param == "purpose"


async def test_unknown_file_is_not_found(finetune_client: FineTuneClient) -> None:
    with pytest.raises(NotFoundError):
        await finetune_client.retrieve_file("file-nope")
    with pytest.raises(NotFoundError):
        await finetune_client.download_file("file-nope")


@pytest.mark.parametrize("encoding", ["always", "never"])
async def test_read_results_plain_or_base64(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl, encoding: str
) -> None:
    await emulator_control.set_results_base64(encoding)
    job = await finetune_client.create_job(small_job(steps=20, validation_file="file-valid-demo"))
    await emulator_control.advance(SECONDS_BEFORE_RUNNING + 20 * SECONDS_PER_STEP + 1)
    done = await finetune_client.retrieve_job(job.id)
    assert done.status == "succeeded"
    assert done.result_files

    raw = await finetune_client.download_file(done.result_files[0])
    table = await finetune_client.read_results(done.result_files[0])

    assert raw.startswith(b"step,") is (encoding == "never")
    assert table.columns[0] == "step"
    assert "train_loss" in table.columns
    assert len(table) == 20
    last = table.last()
    assert last is not None
    assert last["step"] == 20
    losses = table.final_losses()
    assert set(losses) >= {"train_loss", "valid_loss"}
    assert all(loss > 0 for loss in losses.values())
    # Validation runs only every 10 steps: the other cells are empty, read as None.
    assert table.rows[0]["valid_loss"] is None
    assert table.rows[9]["valid_loss"] is not None
