"""The final read: a finished job is read once more for its last figures, even when a person saw it finish
first (a Cancel click, a Refresh, `status`), and never again after that.

The emulator's clock is frozen and moved by hand. The bot runs without its own background work; the tests
drive a watcher's cycles themselves, or start a fast `Background` on the bot's services when they choose.
"""

from __future__ import annotations

import pytest

from bot.jobs.records import NewJob, Origin
from bot.sandbox.emulator.control import EmulatorControl
from bot.views.actions import ACTION_CANCEL, ACTION_REFRESH
from bot.watch.watcher import Watcher
from tests.support.background import FAST_POLL, RigFactory, fast_background, note_transition
from tests.support.runtime import BotRig, StartBot, button_labels, texts_of

CHANNEL = "C_ML"


@pytest.fixture(autouse=True)
async def frozen_emulator(emulator_control: EmulatorControl) -> None:
    await emulator_control.set_speed(0)


async def _job_reads(control: EmulatorControl) -> dict[str, int]:
    """The requests that read jobs, their events or files, answered since the stats were last reset."""
    by_operation = (await control.stats())["by_operation"]
    return {operation: sum(by_status.values()) for operation, by_status in by_operation.items()}


async def _due(bot: BotRig) -> list[str]:
    return [job.job_id for job in await bot.store.due_jobs(now=bot.services.clock() + 3600, limit=10)]


async def test_a_job_cancelled_by_a_click_still_gets_one_final_read_and_then_none(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.advance(30 + 6 * 40)  # running, some forty steps trained
    sent = await bot.slack.sender.click(card, ACTION_CANCEL, user="U_ALICE")
    assert sent.status == 200
    await bot.slack.wait_for(lambda: button_labels(card) == ["Refresh"])
    clicked = await bot.store.get_job(job_id)
    # The click recorded the end from the API's answer, with the steps its events gave by then.
    assert clicked is not None and clicked.status == "cancelled"
    assert clicked.progress.step is not None
    assert await _due(bot) == [job_id]

    watcher = Watcher(bot.services)
    await bot.control.reset_stats()
    final = await watcher.run_cycle()
    assert (final.due, final.recorded, final.event_reads) == (1, 1, 1)
    assert (await _job_reads(bot.control)).get("listFineTuningEvents", 0) >= 1
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status == "cancelled"
    # The last step trained and its loss, from the final read's events.
    step, total = tracked.progress.step, tracked.progress.total_steps
    assert step is not None and total is not None and 30 <= step < total
    assert tracked.progress.train_loss is not None
    assert tracked.status_seq == clicked.status_seq  # the end was not told twice

    await bot.control.reset_stats()
    for _ in range(3):
        assert (await watcher.run_cycle()).due == 0
    assert await _job_reads(bot.control) == {}
    assert await _due(bot) == []


async def test_a_status_command_that_sees_success_first_leaves_the_final_read_to_the_watcher(
    bot: BotRig,
) -> None:
    job_id, _ = await bot.create_job()
    await bot.control.advance(24 * 3600)  # the emulated job runs to its end
    answer = await bot.answer_text(await bot.slack.sender.slash(f"status {job_id}"))
    assert "Succeeded" in answer
    recorded = await bot.store.get_job(job_id)
    assert recorded is not None and recorded.status == "succeeded"
    assert await _due(bot) == [job_id]

    watcher = Watcher(bot.services)
    assert (await watcher.run_cycle()).recorded == 1
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None
    assert tracked.progress.train_loss is not None and tracked.progress.step == tracked.progress.total_steps

    await bot.control.reset_stats()
    assert (await watcher.run_cycle()).due == 0
    assert await _job_reads(bot.control) == {}


async def test_a_success_seen_first_by_a_refresh_is_told_with_the_model_tokens_and_final_losses(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(TUNEOPS_POLL_INTERVAL=FAST_POLL)  # its own background stays off until below
    job_id, card = await bot.create_job(extra="suffix=refreshed")
    await bot.control.advance(24 * 3600)
    assert (await bot.slack.sender.click(card, ACTION_REFRESH, user="U_BOB")).status == 200
    await bot.slack.wait_for(lambda: "Succeeded" in texts_of([card]))

    # The watcher and the notifier start together: the success note is due at once, the final read
    # takes a moment (the job, its events, its results file). The note waits for it.
    background = fast_background(bot.services)
    await background.start()
    try:
        notes = await bot.slack.wait_for(
            lambda: [m for m in bot.slack.thread(CHANNEL, card.ts) if note_transition(m) == "1:succeeded"]
        )
        text = texts_of(notes)
        job = await bot.services.api.retrieve_job(job_id)
        assert job.fine_tuned_model and job.fine_tuned_model in text
        assert job.trained_tokens is not None and "trained tokens" in text.lower()
        assert "final train loss" in text.lower()
        assert notes[0].reply_broadcast and "<@U_ALICE>" in text

        # Then the watcher leaves the job alone: a few dozen cycles later it has not read it again.
        await bot.control.reset_stats()
        watcher = background.watcher
        cycles = watcher.cycles
        await bot.slack.wait_for(lambda: watcher.cycles >= cycles + 20)
        assert await _job_reads(bot.control) == {}
    finally:
        await background.stop(timeout=2.0)
    assert [note_transition(m) for m in bot.slack.thread(CHANNEL, card.ts) if note_transition(m)] == [
        "1:succeeded"
    ]


async def test_a_finished_job_the_api_no_longer_has_is_tried_once_and_left_alone(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(start=False)
    now = rig.services.clock()
    # `watch` of a job that had finished, since deleted from the provider.
    await rig.store.track_job(
        NewJob(
            job_id="ftjob-deleted",
            provider="openai",
            owner_channel="C_TEAM",
            creator="U_ALICE",
            origin=Origin.WATCH,
            status="succeeded",
        ),
        now=now,
    )
    watcher = Watcher(rig.services)
    await rig.control.reset_stats()
    assert (await watcher.run_cycle()).single_reads == 1
    assert await _job_reads(rig.control) == {"retrieveFineTuningJob": 1}

    await rig.control.reset_stats()
    for _ in range(3):
        assert (await watcher.run_cycle()).due == 0
    assert await _job_reads(rig.control) == {}
    tracked = await rig.store.get_job("ftjob-deleted")
    assert tracked is not None and tracked.status == "succeeded"
