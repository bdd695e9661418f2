"""`/finetune digest`: set through the real app, delivered once at the channel's local time (the schedule
loop runs on a clock the test holds), never twice, not even across a restart."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import time as clock_time

from slack_sdk.web.async_client import AsyncWebClient

from bot.app.runtime import Runtime
from bot.sandbox.standin.models import StoredMessage
from bot.schedule.loop import ScheduleLoop
from bot.schedule.posts import CHANNEL_POST_EVENT
from bot.schedule.times import DailyTime
from bot.services import Services
from bot.watch.watcher import Watcher
from tests.support.audit import AuditRow, audit_rows
from tests.support.runtime import BotRig, texts_of

FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:org:rig:digest1"


def digests(bot: BotRig, channel: str = "C_ML") -> list[StoredMessage]:
    return [
        m for m in bot.slack.messages(channel) if (m.metadata or {}).get("event_type") == CHANNEL_POST_EVENT
    ]


def at_clock(services: Services, now: float) -> ScheduleLoop:
    """The schedule loop of these services, on a clock that stands at `now`."""
    return ScheduleLoop(dataclasses.replace(services, clock=lambda: now))


async def finished_jobs(bot: BotRig, since: float) -> tuple[str, str, str]:
    """One succeeded (1M trained tokens), one failed and one running job, all recorded by `status`."""
    succeeded, _ = await bot.create_job(extra="suffix=good")
    failed, _ = await bot.create_job(extra="suffix=bad")
    running, _ = await bot.create_job(extra="suffix=busy")
    await bot.control.set_job(succeeded, status="succeeded")
    await bot.control.set_job_fields(
        succeeded,
        {"fine_tuned_model": FINE_TUNED, "trained_tokens": 1_000_000, "finished_at": int(since) + 60},
    )
    await bot.control.set_job(
        failed, status="failed", error={"code": "invalid_file", "message": "Line 3 is bad"}
    )
    await bot.control.set_job_fields(failed, {"finished_at": int(since) + 120})
    await bot.control.advance(30 + 6 * 20)  # the third job: running, a few steps in
    for job_id in (succeeded, failed):
        await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))
    await bot.store.schedule_poll(running, next_poll_at=0)
    await Watcher(bot.services).run_cycle()  # reads the running job's progress from its events
    return succeeded, failed, running


async def test_digest_command_answers_with_the_next_time_and_refuses_bad_words(bot: BotRig) -> None:
    answer = await bot.answer_text(await bot.slack.sender.slash("digest 09:00 Europe/Paris"))
    assert "daily digest at 09:00 (Europe/Paris)" in answer
    assert "The next one comes" in answer
    schedule = await bot.store.channel_schedule("C_ML")
    assert schedule is not None and schedule.digest == DailyTime(clock_time(9, 0), "Europe/Paris")
    assert [(a.action, a.result) for a in _audit(bot)] == [("digest", "digest 09:00 (Europe/Paris)")]

    for text, fragment in (
        ("digest 25:00", "isn't a time of day"),
        ("digest 09:00 Mars/Olympus", "I don't know the time zone"),
        ("quiet 22:00", "isn't a span of time"),
        ("quiet 07:00-07:00", "different times"),
    ):
        reply = await bot.answer(await bot.slack.sender.slash(text))
        assert reply.response_type == "ephemeral"
        assert fragment in texts_of([reply.body]), text
    schedule = await bot.store.channel_schedule("C_ML")
    assert schedule is not None and schedule.quiet is None  # nothing half-done

    off = await bot.answer_text(await bot.slack.sender.slash("digest off"))
    assert "digest is off" in off
    shown = await bot.answer_text(await bot.slack.sender.slash("digest"))
    assert "Daily digest: off" in shown and "Quiet hours: off" in shown


async def test_a_digest_is_posted_once_at_its_time_and_never_twice_across_a_restart(bot: BotRig) -> None:
    await bot.answer(await bot.slack.sender.slash("digest 09:00 UTC", user="U_BOB"))
    schedule = await bot.store.channel_schedule("C_ML")
    assert schedule is not None and schedule.digest is not None and schedule.digest_since is not None
    since = schedule.digest_since
    succeeded, failed, running = await finished_jobs(bot, since)
    due = schedule.digest.next_after(time.time())

    # A minute before its time: nothing.
    assert await at_clock(bot.services, due - 60).run_once() == 0
    assert digests(bot) == []

    # At its time: one digest, failures first, then what finished, then what runs now.
    assert await at_clock(bot.services, due + 5).run_once() == 1
    [digest] = digests(bot)
    text = texts_of([digest])
    assert text.index(failed) < text.index(succeeded) < text.index(running)
    assert "Line 3 is bad" in text
    assert FINE_TUNED in text and "$3.00" in text  # gpt-4o-mini: $3 per 1M trained tokens
    assert "took" in text  # how long the succeeded job ran
    assert re.search(r"step \d+ of \d+", text)
    assert "1 failed" in text and "1 succeeded" in text and "1 running" in text

    # The loop runs again later that day: nothing new.
    assert await at_clock(bot.services, due + 3600).run_once() == 0
    assert len(digests(bot)) == 1

    # A restart on the same database, later the same day: still the one digest.
    settings = bot.services.settings
    await bot.runtime.stop(timeout=5)
    again = await Runtime.start(settings, port=0, background=False)
    try:
        assert await at_clock(again.services, due + 7200).run_once() == 0
        assert len(digests(bot)) == 1
        # The next day: a new digest, telling only what finished since (nothing) and what still runs.
        assert await at_clock(again.services, due + 86_400 + 5).run_once() == 1
        first, second = digests(bot)
        assert first.ts == digest.ts
        second_text = texts_of([second])
        assert succeeded not in second_text and failed not in second_text
        assert running in second_text
    finally:
        await again.stop(timeout=5)


async def test_a_digest_set_after_its_time_today_waits_for_tomorrow(bot: BotRig) -> None:
    now = time.time()
    earlier = time.gmtime(now - 3600)
    await bot.answer(await bot.slack.sender.slash(f"digest {earlier.tm_hour:02d}:{earlier.tm_min:02d}"))
    assert await at_clock(bot.services, time.time() + 60).run_once() == 0
    assert digests(bot) == []
    assert await at_clock(bot.services, now + 23 * 3600 + 60).run_once() == 1
    assert "Nothing finished since the last digest" in texts_of(digests(bot))


def _audit(bot: BotRig) -> list[AuditRow]:
    return [r for r in audit_rows(bot.services.settings.db_path) if r.action in ("digest", "quiet")]


async def test_a_digest_slack_failed_to_take_is_sent_later_and_one_that_landed_is_not_sent_again(
    bot: BotRig, slack_client: AsyncWebClient
) -> None:
    for channel in ("C_ML", "C_GENERAL"):
        await bot.answer(await bot.slack.sender.slash("digest 09:00", channel=channel))
    schedule = await bot.store.channel_schedule("C_ML")
    assert schedule is not None and schedule.digest is not None
    due = schedule.digest.next_after(time.time())

    bot.slack.fail_next(2, status=500, method="chat.postMessage")  # Slack fails both posts
    assert await at_clock(bot.services, due + 5).run_once() == 0
    assert digests(bot, "C_ML") == [] and digests(bot, "C_GENERAL") == []
    # One of them did land after all (the answer was lost on the way back): it carries the post's key.
    landed = await slack_client.chat_postMessage(
        channel="C_GENERAL",
        text="digest",
        metadata={"event_type": CHANNEL_POST_EVENT, "event_payload": {"key": _digest_key(due)}},
    )

    # Later, after the backoff: the other is posted now, the landed one is recognised, not posted again.
    assert await at_clock(bot.services, due + 900).run_once() == 2
    assert len(digests(bot, "C_ML")) == 1
    assert [m.ts for m in digests(bot, "C_GENERAL")] == [landed["ts"]]
    assert await at_clock(bot.services, due + 1800).run_once() == 0


def _digest_key(at: float) -> str:
    return "digest:" + time.strftime("%Y-%m-%d", time.gmtime(at))
