"""`/finetune quiet`: through the real app with its watcher and notifier, routine changes are held during
quiet hours and a failure goes out at once; when the period ends (on a clock the test holds) the held
changes come as one summary."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from bot.sandbox.standin.models import StoredMessage
from bot.schedule.loop import ScheduleLoop
from bot.schedule.posts import CHANNEL_POST_EVENT
from bot.schedule.records import HeldNote
from tests.support.background import AppRig
from tests.support.runtime import BotRig, texts_of

CHANNEL = "C_ML"


def _window_around_now() -> str:
    """Quiet hours from an hour ago to an hour from now (UTC)."""
    start, end = time.gmtime(time.time() - 3600), time.gmtime(time.time() + 3600)
    return f"{start.tm_hour:02d}:{start.tm_min:02d}-{end.tm_hour:02d}:{end.tm_min:02d}"


async def test_quiet_hours_hold_routine_notes_let_a_failure_through_and_sum_up_at_the_end(
    app_rig: AppRig,
) -> None:
    rig, bot = app_rig, app_rig.bot
    answer = await bot.answer_text(await bot.slack.sender.slash(f"quiet {_window_around_now()} UTC"))
    assert "Quiet hours here are" in answer and "failures still go out at once" in answer

    quiet_job, quiet_card = await bot.create_job(extra="suffix=calm")
    failing_job, failing_card = await bot.create_job(extra="suffix=doomed")
    await bot.control.set_job(quiet_job, status="running", step=2)
    # The running change is held, not posted in the card's thread.
    held = await _wait_held(bot, quiet_job)
    assert [n.transition.partition(":")[2] for n in held] == ["running"]
    assert rig.transitions(CHANNEL, quiet_card.ts) == []

    # A failure goes out at once, quiet hours or not, and to the channel.
    await bot.control.set_job(failing_job, status="failed", error={"code": "bad_file", "message": "Broken"})
    failed = await rig.slack.wait_for(
        lambda: [t for t in rig.transitions(CHANNEL, failing_card.ts) if t.endswith(":failed")]
    )
    assert failed
    # The card itself is still kept current (edits notify nobody).
    await rig.slack.wait_for(lambda: "Running" in texts_of([rig.slack.message(CHANNEL, quiet_card.ts)]))
    assert rig.transitions(CHANNEL, quiet_card.ts) == []

    # The end of the period: one summary of what was held; nothing is held any more, nothing repeated.
    schedule = await bot.store.channel_schedule(CHANNEL)
    assert schedule is not None and schedule.quiet is not None
    period = schedule.quiet.period_at(time.time())
    assert period is not None
    after = dataclasses.replace(bot.services, clock=lambda: period[1] + 1)
    assert await ScheduleLoop(after).run_once() == 1
    [summary] = _summaries(rig)
    text = texts_of([summary])
    assert "While it was quiet: 1 change to 1 job" in text
    assert quiet_job in text and "running" in text.lower()
    assert failing_job not in text
    assert await bot.store.held_notes(CHANNEL) == []
    assert await ScheduleLoop(after).run_once() == 0
    assert len(_summaries(rig)) == 1
    assert rig.transitions(CHANNEL, quiet_card.ts) == []


async def test_quiet_off_releases_what_was_held(app_rig: AppRig) -> None:
    rig, bot = app_rig, app_rig.bot
    await bot.answer(await bot.slack.sender.slash(f"quiet {_window_around_now()}"))
    job_id, _ = await bot.create_job(extra="suffix=released")
    await bot.control.set_job(job_id, status="running", step=1)
    await _wait_held(bot, job_id)
    answer = await bot.answer_text(await bot.slack.sender.slash("quiet off"))
    assert "Quiet hours are off here" in answer
    assert await ScheduleLoop(bot.services).run_once() == 1
    assert job_id in texts_of(_summaries(rig))


def _summaries(rig: AppRig) -> list[StoredMessage]:
    return [
        m for m in rig.slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") == CHANNEL_POST_EVENT
    ]


async def _wait_held(bot: BotRig, job_id: str) -> list[HeldNote]:
    """The job's notes held back, once the notifier has held one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        held = [n for n in await bot.store.held_notes(CHANNEL) if n.job_id == job_id]
        if held:
            return held
        await asyncio.sleep(0.05)
    raise AssertionError("no note was held")
