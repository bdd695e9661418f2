"""Job operations over real HTTP against the emulator, on both providers (see `finetune_client`)."""

from __future__ import annotations

import pytest

from bot.finetune.client import FineTuneClient
from bot.finetune.errors import (
    AuthenticationError,
    BadRequestError,
    InvalidJobSpecError,
    NotFoundError,
)
from bot.finetune.providers import ProviderConfig
from bot.finetune.spec import JobSpec, ProviderName
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer
from tests.support.client import (
    SECONDS_BEFORE_RUNNING,
    SECONDS_PER_STEP,
    RecordedSleeps,
    emulator_provider,
    small_job,
)


async def test_create_retrieve_and_list(finetune_client: FineTuneClient) -> None:
    job = await finetune_client.create_job(small_job(suffix="demo", seed=7, epochs=2))

    assert job.id.startswith("ftjob-")
    assert job.status == "validating_files"
    assert job.training_file == "file-train-demo"
    assert job.seed == 7
    assert job.hyperparameters is not None
    assert job.hyperparameters.n_epochs == 2

    again = await finetune_client.retrieve_job(job.id)
    assert again.id == job.id
    assert again.model == "gpt-4o-mini-2024-07-18"

    page = await finetune_client.list_jobs()
    assert [listed.id for listed in page.data] == [job.id]
    assert not page.has_more


async def test_iter_jobs_walks_every_page_newest_first(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    created = [(await finetune_client.create_job(small_job())).id for _ in range(5)]
    await emulator_control.reset_stats()

    seen = [job.id async for job in finetune_client.iter_jobs(page_size=2)]

    assert seen == list(reversed(created))
    stats = await emulator_control.stats()
    assert stats["by_operation"]["listPaginatedFineTuningJobs"] == {"200": 3}


async def test_iter_jobs_stops_after_max_pages(finetune_client: FineTuneClient) -> None:
    for _ in range(5):
        await finetune_client.create_job(small_job())

    seen = [job.id async for job in finetune_client.iter_jobs(page_size=2, max_pages=2)]

    assert len(seen) == 4


async def test_list_jobs_pages_with_the_cursor(finetune_client: FineTuneClient) -> None:
    created = [(await finetune_client.create_job(small_job())).id for _ in range(3)]

    first = await finetune_client.list_jobs(limit=2)
    second = await finetune_client.list_jobs(after=first.last_id, limit=2)

    assert [job.id for job in first.data] == [created[2], created[1]]
    assert first.has_more
    assert [job.id for job in second.data] == [created[0]]
    assert not second.has_more


async def test_metadata_filter_on_both_providers(finetune_client: FineTuneClient) -> None:
    """OpenAI filters on the server; Azure's API cannot, so the client filters: the caller sees no difference."""
    team_a = {(await finetune_client.create_job(small_job(metadata={"team": "a"}))).id for _ in range(3)}
    for _ in range(2):
        await finetune_client.create_job(small_job(metadata={"team": "b"}))

    page = await finetune_client.list_jobs(metadata={"team": "a"}, limit=20)
    walked = [job.id async for job in finetune_client.iter_jobs(page_size=2, metadata={"team": "a"})]

    assert {job.id for job in page.data} == team_a
    assert set(walked) == team_a
    assert len(walked) == 3


async def test_pause_resume_and_cancel(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finetune_client.create_job(small_job(steps=50))
    await emulator_control.advance(SECONDS_BEFORE_RUNNING + 5 * SECONDS_PER_STEP)
    assert (await finetune_client.retrieve_job(job.id)).status == "running"

    paused = await finetune_client.pause_job(job.id)
    assert paused.status == "paused"

    resumed = await finetune_client.resume_job(job.id)
    assert resumed.status == "queued"

    cancelled = await finetune_client.cancel_job(job.id)
    assert cancelled.status == "cancelled"
    assert cancelled.is_terminal
    assert (await finetune_client.retrieve_job(job.id)).status == "cancelled"


@pytest.mark.parametrize(
    ("action", "status_word"),
    [("pause_job", "paused"), ("resume_job", "resumed"), ("cancel_job", "cancelled")],
)
async def test_wrong_state_is_a_bad_request_with_the_servers_message_and_no_retry(
    finetune_client: FineTuneClient,
    emulator_control: EmulatorControl,
    retry_sleeps: RecordedSleeps,
    action: str,
    status_word: str,
) -> None:
    job = await finetune_client.create_job(small_job())
    await emulator_control.set_job(job.id, status="succeeded")
    await emulator_control.reset_stats()

    with pytest.raises(BadRequestError) as caught:
        await getattr(finetune_client, action)(job.id)

    error = caught.value
    assert error.status_code == 400
    assert error.code == "invalid_job_state"
    assert str(error) == f"Job {job.id} is succeeded and cannot be {status_word}."
    assert error.request_id
    stats = await emulator_control.stats()
    assert stats["total"] == 1
    assert retry_sleeps.delays == []


async def test_unknown_job_is_not_found(finetune_client: FineTuneClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await finetune_client.retrieve_job("ftjob-doesnotexist")

    assert caught.value.status_code == 404
    assert "ftjob-doesnotexist" in str(caught.value)
    assert caught.value.request_id


async def test_wrong_key_is_an_authentication_error_without_the_key(
    emulator: EmulatorServer, provider_name: ProviderName
) -> None:
    secret = "sk-wrong-secret-key-98765"
    async with FineTuneClient(emulator_provider(emulator, provider_name, api_key=secret)) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_jobs()

    error = caught.value
    assert error.status_code == 401
    assert error.request_id
    assert error.code in ("invalid_api_key", "401")  # Azure sends the status as its code
    for text in (str(error), repr(error), repr(error.args)):
        assert secret not in text


async def test_invalid_spec_reports_every_problem_and_sends_nothing(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    spec = JobSpec(
        model="",
        training_file="file-train-demo",
        suffix="x" * 70,
        seed=-1,
        epochs=99,
        batch_size=0,
        lr_multiplier=0.0,
        metadata={f"k{n}": "v" for n in range(17)},
    )

    with pytest.raises(InvalidJobSpecError) as caught:
        await finetune_client.create_job(spec)

    fields = {field for field, _ in caught.value.problems}
    assert fields == {"model", "suffix", "seed", "epochs", "batch_size", "lr_multiplier", "metadata"}
    stats = await emulator_control.stats()
    assert stats["total"] == 0


async def test_azure_suffix_rules_are_checked_before_sending_openai_refuses_at_the_server(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    spec = small_job(suffix="has spaces")

    if finetune_client.provider_name == "azure":
        with pytest.raises(InvalidJobSpecError, match="suffix"):
            await finetune_client.create_job(spec)
        assert (await emulator_control.stats())["total"] == 0
    else:
        with pytest.raises(BadRequestError) as caught:
            await finetune_client.create_job(spec)
        assert caught.value.param == "suffix"
        assert "suffix" in str(caught.value)


async def test_server_side_rejection_keeps_param_and_message(finetune_client: FineTuneClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        await finetune_client.create_job(small_job(training_file="file-missing"))

    assert caught.value.param == "training_file"
    assert "file-missing" in str(caught.value)


async def test_azure_training_type_and_api_version_reach_the_server(emulator: EmulatorServer) -> None:
    good = emulator_provider(emulator, "azure", training_type="GlobalStandard")
    bogus_type = emulator_provider(emulator, "azure", training_type="Bogus")
    async with FineTuneClient(good) as client:
        job = await client.create_job(small_job())
        assert job.status == "validating_files"
    async with FineTuneClient(bogus_type) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.create_job(small_job())
        assert caught.value.param == "trainingType"

    wrong_version = ProviderConfig.azure(emulator.azure_endpoint, emulator.api_key, api_version="2024-10-21")
    async with FineTuneClient(wrong_version) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.list_jobs()
        assert caught.value.param == "api-version"
