"""One intent makes one call, odd numbers get a plain answer, and every refusal is audited after the ack."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from bot.jobs.lists import PAGE_SIZE
from bot.jobs.records import NewJob, Origin
from bot.views.actions import ACTION_NEXT_PAGE
from tests.support.audit import audit_rows
from tests.support.runtime import BotRig, button_labels, texts_of


async def _operation_count(bot: BotRig, operation: str) -> int:
    counts = (await bot.control.stats())["by_operation"].get(operation, {})
    return sum(int(n) for n in counts.values())


@pytest.mark.parametrize(
    ("button", "operation"), [("job_cancel", "cancelFineTuningJob"), ("job_pause", "pauseFineTuningJob")]
)
async def test_twenty_concurrent_clicks_make_one_api_call(bot: BotRig, button: str, operation: str) -> None:
    job_id, card = await bot.running_job()
    await bot.slack.sender.click(card, "job_refresh")  # the card now shows the running job's buttons
    await bot.slack.wait_for(lambda: "Pause" in button_labels(card))
    await bot.audit(job_id, 2)
    await bot.control.reset_stats()
    bot.slack.reset_records()

    sent = await asyncio.gather(*(bot.slack.sender.click(card, button) for _ in range(20)))
    assert all(s.status == 200 for s in sent)

    assert await _operation_count(bot, operation) == 1
    entries = await bot.audit(job_id, 22)
    assert len([e for e in entries if e.action == button.removeprefix("job_")]) == 20
    # The click that was sent edits the card; each of the 19 others is told why nothing more was sent.
    await bot.slack.wait_for(lambda: len(bot.slack.responses) >= 19)
    answers = [texts_of([post.body]) for post in bot.slack.responses]
    assert len(answers) == 19
    assert all("already" in text and "refused" not in text for text in answers), answers


async def test_cancelling_a_finished_job_asks_the_api_nothing(bot: BotRig) -> None:
    job_id, card = await bot.running_job()
    await bot.slack.sender.click(card, "job_cancel")
    await bot.audit(job_id, 2)
    await bot.control.reset_stats()

    sent = await bot.slack.sender.slash(f"cancel {job_id}")
    text = await bot.answer_text(sent)

    assert "already cancelled" in text.lower() and "nothing left to cancel" in text
    assert await _operation_count(bot, "cancelFineTuningJob") == 0
    assert (await bot.audit(job_id, 3))[-1].result == "not sent: the job has cancelled"


@pytest.mark.parametrize(
    "cursor",
    [
        {"scope": "channel", "mine": False, "page": 2, "offset": 10**30},
        {"scope": "channel", "mine": False, "page": 2, "offset": 2**63},
        {"scope": "channel", "mine": False, "page": 10**30, "offset": 20},
        {"scope": "channel", "mine": False, "page": 2, "offset": -1},
        {"scope": "all", "mine": False, "page": 2, "offset": 0, "after": "x" * 5000},
        {"scope": "channel", "mine": False, "page": True, "offset": 20},
    ],
)
async def test_a_forged_next_page_gets_a_plain_answer_and_is_audited(
    bot: BotRig, cursor: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    now = bot.services.clock()
    for n in range(PAGE_SIZE + 1):  # more than a page, so the list has a Next page button
        new = NewJob(
            f"ftjob-page{n:03d}", "openai", "C_ML", "U_ALICE", Origin.COMMAND, "running", "m", None, {}
        )
        await bot.store.track_job(new, now=now + n)
    await bot.answer(await bot.slack.sender.slash("list"))
    page = next(e for e in bot.slack.ephemerals("U_ALICE") if "Next page" in button_labels(e))
    sent = await bot.slack.sender.click(page, ACTION_NEXT_PAGE, value=json.dumps(cursor))
    text = await bot.answer_text(sent)

    assert "out of date" in text
    assert not [r for r in caplog.records if r.exc_info]
    refusals = [r for r in audit_rows(bot.services.settings.db_path) if r.action == "list" and not r.allowed]
    assert len(refusals) == 1


async def test_a_button_without_a_job_id_is_refused_and_audited(bot: BotRig) -> None:
    _, card = await bot.create_job()
    sent = await bot.slack.sender.click(card, "job_cancel", value="../../files")
    assert "doesn't name a job" in await bot.answer_text(sent)
    refused = [r for r in audit_rows(bot.services.settings.db_path) if not r.allowed]
    assert [(r.action, r.job_id, r.user) for r in refused] == [("cancel", None, "U_ALICE")]


async def test_a_refusal_is_acknowledged_while_the_database_is_busy(bot: BotRig) -> None:
    """The refusal's audit entry is written after the ack: a database busy with another writer delays the
    entry, never the ack (Slack gives up after 3 seconds)."""
    job_id, card = await bot.running_job()
    holder = sqlite3.connect(bot.services.settings.db_path, isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        sent = await bot.slack.sender.click(card, "job_cancel", user="U_BOB")  # not Bob's job
        assert sent.status == 200
        assert [e for e in await bot.store.audit_for_job(job_id) if not e.allowed] == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "who started" in await bot.answer_text(sent)
    entries = await bot.audit(job_id, 2)
    assert [(e.action, e.allowed, e.user) for e in entries][-1] == ("cancel", False, "U_BOB")


@pytest.mark.parametrize("bobs_channel", ["C_ML", "C_TRAINING"])
async def test_a_forged_button_value_does_not_rebind_a_card(bot: BotRig, bobs_channel: str) -> None:
    alices_job, alices_card = await bot.create_job(user="U_ALICE", channel="C_ML")
    bobs_job, _ = await bot.create_job(user="U_BOB", channel=bobs_channel)
    watches_before = {
        (job, w.channel): w.card_ts for job in (alices_job, bobs_job) for w in await bot.store.watches(job)
    }
    versions_before = len(alices_card.versions)
    await bot.control.reset_stats()

    sent = await bot.slack.sender.click(alices_card, "job_refresh", user="U_ALICE", value=bobs_job)

    assert "doesn't belong to the card" in await bot.answer_text(sent)
    assert len(alices_card.versions) == versions_before  # Alice's card still shows Alice's job
    assert bobs_job not in texts_of([alices_card])
    after = {
        (job, w.channel): w.card_ts for job in (alices_job, bobs_job) for w in await bot.store.watches(job)
    }
    assert after == watches_before
    assert (await bot.control.stats())["total"] == 0
    refused = [r for r in audit_rows(bot.services.settings.db_path) if not r.allowed]
    assert [(r.action, r.job_id, r.user) for r in refused] == [("refresh", bobs_job, "U_ALICE")]


async def test_a_card_button_with_its_own_job_still_works(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    sent = await bot.slack.sender.click(card, "job_refresh")
    assert sent.status == 200
    entries = await bot.audit(job_id, 2)
    assert [(e.action, e.allowed) for e in entries] == [("create", True), ("refresh", True)]
