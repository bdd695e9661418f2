"""How the watcher reads the API: the list endpoint first, single reads for the rest, adaptive intervals,
per-job backoff for a job the API will not return, and one "looks stuck" note."""

from __future__ import annotations

import dataclasses

import pytest

from bot.finetune.spec import JobSpec
from bot.jobs.records import NewJob, Origin
from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.watch.poll_policy import PollPolicy
from bot.watch.watcher import Watcher
from tests.support.background import BASE_MODEL, FAST_POLL, Rig, RigFactory


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


@pytest.fixture
async def idle_rig(make_rig: RigFactory) -> Rig:
    """The rig with its Background not started: tests drive single watcher cycles themselves."""
    return await make_rig(start=False)


async def _requests(rig: Rig) -> dict[str, int]:
    stats = await rig.control.stats()
    return {operation: sum(by_status.values()) for operation, by_status in stats["by_operation"].items()}


def _make_due(rig: Rig) -> float:
    return rig.services.clock() + 3600  # a "now" when every tracked job is due


async def test_thirty_due_jobs_are_read_with_one_list_request(idle_rig: Rig) -> None:
    rig = idle_rig
    jobs = [await rig.start_job(f"C_{n % 3}", suffix=f"many-{n}") for n in range(30)]
    await rig.control.reset_stats()
    watcher = Watcher(rig.services)

    cycle_started = rig.services.clock()
    result = await watcher.run_cycle()

    assert result.due == 30 and result.recorded == 30
    requests = await _requests(rig)
    assert requests.get("listPaginatedFineTuningJobs") == 1
    assert "retrieveFineTuningJob" not in requests
    assert "listFineTuningEvents" not in requests  # validating jobs have no training events to read
    tracked = [await rig.store.get_job(job_id) for job_id in jobs]
    assert all(job is not None and job.updated_at >= cycle_started for job in tracked)  # each one recorded


async def test_jobs_the_pages_do_not_reach_are_read_one_by_one(idle_rig: Rig) -> None:
    rig = idle_rig
    ours = [await rig.start_job("C_TEAM", suffix=f"old-{n}") for n in range(3)]
    for n in range(8):  # newer jobs someone else started: they fill the first page
        await rig.services.api.create_job(
            JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE, suffix=f"x{n}")
        )
    await rig.control.reset_stats()
    watcher = Watcher(rig.services, page_size=5, max_list_pages=1, list_threshold=2)

    result = await watcher.run_cycle()

    assert result.recorded == 3
    requests = await _requests(rig)
    assert requests.get("listPaginatedFineTuningJobs") == 1
    assert requests.get("retrieveFineTuningJob") == 3
    assert {job.job_id for job in await rig.store.due_jobs(now=_make_due(rig), limit=10)} == set(ours)


async def test_the_next_poll_follows_the_status(idle_rig: Rig) -> None:
    rig = idle_rig
    queued = await rig.start_job("C_TEAM", suffix="q")
    running = await rig.start_job("C_TEAM", suffix="r")
    paused = await rig.start_job("C_TEAM", suffix="p")
    await rig.control.set_job(queued, status="queued")
    await rig.control.set_job(running, status="running", step=3)
    await rig.control.set_job(paused, status="paused", step=3)
    policy = PollPolicy(interval=10.0, spread=0.0)
    watcher = Watcher(rig.services, policy=policy)

    before = rig.services.clock()
    await watcher.run_cycle()
    after = rig.services.clock()

    async def delay_is(job_id: str, seconds: float) -> bool:
        """The job's next poll is `seconds` after it was recorded (some moment during the cycle)."""
        job = await rig.store.get_job(job_id)
        assert job is not None
        return job.next_poll_at - after <= seconds <= job.next_poll_at - before

    assert await delay_is(running, 10.0)
    assert await delay_is(queued, 30.0)
    assert await delay_is(paused, 100.0)


async def test_a_finished_job_is_read_one_last_time_and_then_never_again(idle_rig: Rig) -> None:
    rig = idle_rig
    job_id = await rig.start_job("C_TEAM", validation=True)
    await rig.control.set_job(job_id, status="running", step=40)
    watcher = Watcher(rig.services)
    await watcher.run_cycle()
    await rig.control.advance(6 * 100)  # → succeeded
    await rig.store.schedule_poll(job_id, next_poll_at=0)

    await watcher.run_cycle()  # the final read: status, last metrics
    tracked = await rig.store.get_job(job_id)
    assert tracked is not None and tracked.status == "succeeded"
    assert tracked.progress.step == tracked.progress.total_steps == 100
    assert tracked.progress.train_loss is not None and tracked.progress.valid_loss is not None
    await rig.control.reset_stats()
    result = await watcher.run_cycle()
    assert result.due == 0
    assert await _requests(rig) == {}


async def test_a_job_the_api_will_not_return_backs_off_alone_and_silently(idle_rig: Rig) -> None:
    rig = idle_rig
    real = await rig.start_job("C_TEAM")
    now = rig.services.clock()
    # The watcher's clock stands still, so each wait it schedules reads exactly, however slow the cycle.
    services = dataclasses.replace(rig.services, clock=lambda: now)
    await rig.store.track_job(
        NewJob(
            job_id="ftjob-gone",
            provider="openai",
            owner_channel="C_TEAM",
            creator="U_ALICE",
            origin=Origin.WATCH,
            status="running",
        ),
        now=now,
    )
    watcher = Watcher(services, list_threshold=10)
    posts = len(rig.slack.calls_to("chat.postMessage"))

    waits = []
    for _ in range(3):
        await rig.store.schedule_poll("ftjob-gone", next_poll_at=0)
        await watcher.run_cycle()
        gone = await rig.store.get_job("ftjob-gone")
        assert gone is not None
        waits.append(gone.next_poll_at - now)
    await rig.control.advance(30)
    await rig.store.schedule_poll(real, next_poll_at=0)
    await watcher.run_cycle()

    assert waits[0] < waits[1] < waits[2]  # each failure waits longer
    assert waits[0] >= FAST_POLL
    tracked = await rig.store.get_job(real)
    assert tracked is not None and tracked.status == "running"  # the other job is still followed
    assert len(rig.slack.calls_to("chat.postMessage")) == posts  # and nothing was said in Slack


async def test_a_running_job_without_new_events_for_long_gets_one_stuck_note(make_rig: RigFactory) -> None:
    rig = await make_rig(start=False)
    rig.background.watcher.stuck_after = 0.3
    job_id = await rig.start_job("C_TEAM", "U_ALICE")
    await rig.control.advance(30 + 6 * 10)  # running, 10 steps in; then the emulator stands still
    await rig.background.start()

    await rig.until(lambda: "stuck" in rig.statuses(job_id, "C_TEAM"), within=10)
    reads = (await _requests(rig)).get("retrieveFineTuningJob", 0)
    await rig.until_async(lambda: _reads_at_least(rig, reads + 10))  # ten more quiet polls
    assert rig.statuses(job_id, "C_TEAM") == ["running", "stuck"]
    note = rig.notes(job_id, "C_TEAM")[-1]
    assert "looks stuck" in note.text
    assert not note.reply_broadcast


async def _reads_at_least(rig: Rig, count: int) -> bool:
    return (await _requests(rig)).get("retrieveFineTuningJob", 0) >= count
