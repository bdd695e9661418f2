"""Events (newest first, tailing with a cursor) and checkpoints, against the emulator on both providers."""

from __future__ import annotations

from bot.finetune.client import FineTuneClient
from bot.finetune.models import FineTuningJob, JobEvent
from bot.sandbox.emulator.control import EmulatorControl
from tests.support.client import SECONDS_BEFORE_RUNNING, SECONDS_PER_STEP, small_job

STEPS = 30


async def finished_job(client: FineTuneClient, control: EmulatorControl) -> FineTuningJob:
    job = await client.create_job(small_job(steps=STEPS, validation_file="file-valid-demo", epochs=3))
    await control.advance(SECONDS_BEFORE_RUNNING + STEPS * SECONDS_PER_STEP + 1)
    done = await client.retrieve_job(job.id)
    assert done.status == "succeeded"
    return done


async def every_event_oldest_first(client: FineTuneClient, job_id: str) -> list[JobEvent]:
    page = await client.list_events(job_id, limit=100)
    assert not page.has_more
    return list(reversed(page.data))


async def test_list_events_newest_first_with_a_cursor(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finished_job(finetune_client, emulator_control)
    history = await every_event_oldest_first(finetune_client, job.id)

    first = await finetune_client.list_events(job.id, limit=4)
    second = await finetune_client.list_events(job.id, after=first.data[-1].id, limit=4)

    newest_first = list(reversed(history))
    assert [e.id for e in first.data] == [e.id for e in newest_first[:4]]
    assert [e.id for e in second.data] == [e.id for e in newest_first[4:8]]
    assert first.has_more
    assert first.data[0].message == "The job has successfully completed"
    assert history[0].message.startswith("Created fine-tuning job")
    metrics = [e.metrics for e in history if e.metrics is not None]
    assert metrics
    assert metrics[-1].step == STEPS
    assert metrics[-1].total_steps == STEPS
    assert metrics[-1].train_loss is not None


async def test_events_since_reads_back_across_pages_to_the_last_seen_event(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finished_job(finetune_client, emulator_control)
    history = await every_event_oldest_first(finetune_client, job.id)
    assert len(history) > 10
    last_seen = history[2]
    await emulator_control.reset_stats()

    newer = await finetune_client.events_since(job.id, last_seen.id, page_size=3)

    assert [e.id for e in newer] == [e.id for e in history[3:]]  # oldest first, nothing seen twice
    stats = await emulator_control.stats()
    assert stats["by_operation"]["listFineTuningEvents"]["200"] >= 3  # it really walked several pages


async def test_events_since_with_nothing_new_is_empty(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finished_job(finetune_client, emulator_control)
    history = await every_event_oldest_first(finetune_client, job.id)

    assert await finetune_client.events_since(job.id, history[-1].id, page_size=3) == []


async def test_events_since_without_a_cursor_is_the_latest_page_oldest_first(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finished_job(finetune_client, emulator_control)
    history = await every_event_oldest_first(finetune_client, job.id)

    latest = await finetune_client.events_since(job.id, None, page_size=5)

    assert [e.id for e in latest] == [e.id for e in history[-5:]]


async def test_events_since_follows_a_running_job(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finetune_client.create_job(small_job(steps=STEPS))
    seen = await finetune_client.events_since(job.id, None)
    assert seen[0].message.startswith("Created fine-tuning job")

    await emulator_control.advance(SECONDS_BEFORE_RUNNING + 10 * SECONDS_PER_STEP)
    newer = await finetune_client.events_since(job.id, seen[-1].id, page_size=2)

    assert newer
    assert {e.id for e in newer}.isdisjoint({e.id for e in seen})
    assert any(e.metrics is not None and e.metrics.step == 10 for e in newer)
    created = [e.created_at for e in newer]
    assert created == sorted(created)


async def test_events_since_gives_up_after_max_pages(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finished_job(finetune_client, emulator_control)
    history = await every_event_oldest_first(finetune_client, job.id)

    newer = await finetune_client.events_since(job.id, "ftevent-gone", page_size=2, max_pages=2)

    assert [e.id for e in newer] == [e.id for e in history[-4:]]


async def test_checkpoints_newest_first(
    finetune_client: FineTuneClient, emulator_control: EmulatorControl
) -> None:
    job = await finished_job(finetune_client, emulator_control)

    page = await finetune_client.list_checkpoints(job.id)
    steps = [checkpoint.step_number for checkpoint in page.data]

    assert steps == [30, 20, 10]
    assert all(c.fine_tuning_job_id == job.id for c in page.data)
    assert all(c.fine_tuned_model_checkpoint for c in page.data)

    first = await finetune_client.list_checkpoints(job.id, limit=2)
    rest = await finetune_client.list_checkpoints(job.id, after=first.last_id, limit=2)
    assert [c.step_number for c in first.data + rest.data] == [30, 20, 10]
    assert first.has_more
    assert not rest.has_more
