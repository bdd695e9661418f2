"""Models leaving the API (`shutdown_date` in `GET /models`): the date on every affected succeeded job's
card, and one notice per channel some weeks before, through the channel posts: once, even after a
restart. The emulator dates the gpt-4o and gpt-4.1 families (but nano) and what was fine-tuned on them."""

from __future__ import annotations

import datetime as dt

from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.schedule.loop import ScheduleLoop
from bot.watch.retirements import RetirementWatch
from tests.support.runtime import BotRig, StartBot, texts_of

SHUTDOWN = "2027-01-14"
LONG_BEFORE = dt.date(2026, 10, 1)  # 105 days before: the card says it, the channel is not told yet
WEEKS_BEFORE = dt.date(2026, 12, 1)
NANO = "gpt-4.1-nano-2025-04-14"


async def _succeeded(rig: BotRig, channel: str = "C_ML") -> tuple[str, str]:
    job_id, card = await rig.create_job(channel=channel)
    await rig.control.advance(24 * 3600)
    assert (await rig.slack.sender.click(card, "job_refresh")).status == 200
    await rig.slack.wait_for(lambda: "Succeeded" in texts_of([card]))
    return job_id, card.ts


def _notices(rig: BotRig, channel: str) -> list[str]:
    return [t for t in (texts_of([m]) for m in rig.slack.messages(channel)) if "leave the API on" in t]


async def test_the_models_list_carries_shutdown_dates(bot: BotRig) -> None:
    dates = {m.id: m.shutdown_date for m in await bot.services.api.list_models()}
    assert dates["gpt-4o-mini-2024-07-18"] == SHUTDOWN
    assert dates["gpt-4.1-2025-04-14"] == SHUTDOWN
    assert dates["gpt-4.1-nano-2025-04-14"] is None
    assert dates["o4-mini"] is None


async def test_the_card_shows_the_date_and_keeps_it_after_a_refresh(bot: BotRig) -> None:
    job_id, ts = await _succeeded(bot)
    card = bot.slack.message("C_ML", ts)
    assert card is not None and "leaves the API" not in texts_of([card])

    assert await RetirementWatch(bot.services).run_once(today=LONG_BEFORE) == (1, 0)
    # The card was made stale; a redraw (here a Refresh, which reads the job again) shows the date.
    assert (await bot.slack.sender.click(card, "job_refresh")).status == 200
    await bot.slack.wait_for(lambda: "leaves the API on *14 Jan 2027*" in texts_of([card]))
    assert (await bot.slack.sender.click(card, "job_refresh")).status == 200
    assert [e.action for e in await bot.audit(job_id, 4)] == ["create", "refresh", "refresh", "refresh"]
    # A new read of the job does not lose the date.
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.snapshot["shutdown_date"] == SHUTDOWN
    assert "leaves the API on *14 Jan 2027*" in texts_of([card])
    # Too early for the channel to be told; a second pass changes nothing.
    assert _notices(bot, "C_ML") == []
    assert await RetirementWatch(bot.services).run_once(today=LONG_BEFORE) == (0, 0)


async def test_one_notice_per_channel_even_after_a_restart(start_bot: StartBot) -> None:
    rig = await start_bot()
    first, _ = await _succeeded(rig)
    second, _ = await _succeeded(rig)
    other, _ = await _succeeded(rig, channel="C_OPS")

    assert await RetirementWatch(rig.services).run_once(today=WEEKS_BEFORE) == (3, 2)
    assert await ScheduleLoop(rig.services).run_once() == 2
    (notice,) = _notices(rig, "C_ML")
    assert "2 fine-tuned models this channel made leave the API on 14 Jan 2027" in notice
    assert first in notice and second in notice and other not in notice
    assert "gpt-4o-mini-2024-07-18" in notice
    (ops,) = _notices(rig, "C_OPS")
    assert other in ops and "1 fine-tuned model this channel made" in ops

    # Again, and after a restart on the same database: no second notice.
    assert await RetirementWatch(rig.services).run_once(today=WEEKS_BEFORE) == (0, 0)
    db = rig.services.settings.db_path
    await rig.runtime.stop(timeout=5)
    again = await start_bot(TUNEOPS_DB=db)
    assert await RetirementWatch(again.services).run_once(today=dt.date(2026, 12, 20)) == (0, 0)
    assert await ScheduleLoop(again.services).run_once() == 0
    assert len(_notices(again, "C_ML")) == 1 and len(_notices(again, "C_OPS")) == 1


async def test_models_without_a_date_get_nothing(bot: BotRig) -> None:
    # A job on a base model the list gives no date (nor its fine-tuned model): no card line, no notice.
    sent = await bot.slack.sender.slash(f"create model={NANO} training_file={DEMO_TRAINING_FILE}")
    await bot.answer(sent)
    (card,) = await bot.slack.wait_for(lambda: bot.slack.messages("C_ML"))
    await bot.control.advance(24 * 3600)
    assert (await bot.slack.sender.click(card, "job_refresh")).status == 200
    await bot.slack.wait_for(lambda: "Succeeded" in texts_of([card]))
    assert await RetirementWatch(bot.services).run_once(today=WEEKS_BEFORE) == (0, 0)
    assert "leaves the API" not in texts_of([card])
    assert await ScheduleLoop(bot.services).run_once() == 0
