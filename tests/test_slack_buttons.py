"""The card's buttons, clicked in the Slack stand-in: each one in each state edits the card it sits on."""

from __future__ import annotations

import asyncio

import pytest

from bot.finetune.spec import JobSpec
from bot.jobs.lists import PAGE_SIZE, ListCursor
from bot.jobs.records import NewJob, Origin, OutboxItem
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from tests.support.audit import audit_rows
from tests.support.runtime import BASE_MODEL, BotRig, button_labels, texts_of


async def test_pause_then_resume_then_cancel_edit_the_card_in_place(bot: BotRig) -> None:
    job_id, card = await bot.running_job()
    # The card was drawn while validating; Refresh brings it to running, with its Pause button.
    assert (await bot.slack.sender.click(card, "job_refresh")).status == 200
    await bot.slack.wait_for(lambda: "Pause" in button_labels(card))
    assert button_labels(card) == ["Pause", "Cancel", "Refresh"]

    assert (await bot.slack.sender.click(card, "job_pause")).status == 200
    await bot.slack.wait_for(lambda: "Resume" in button_labels(card))
    assert await bot.job_status_in_emulator(job_id) == "paused"
    assert button_labels(card) == ["Resume", "Cancel", "Refresh"]
    assert "Paused" in texts_of([card])

    await bot.slack.sender.click(card, "job_resume")
    await bot.slack.wait_for(lambda: "Resume" not in button_labels(card))
    assert await bot.job_status_in_emulator(job_id) in ("queued", "running")

    await bot.slack.sender.click(card, "job_cancel")
    await bot.slack.wait_for(lambda: button_labels(card) == ["Refresh"])
    assert await bot.job_status_in_emulator(job_id) == "cancelled"
    assert "Cancelled" in texts_of([card])

    # Every click edited the one card; the channel never got a second one, nor a private note.
    assert len(bot.slack.messages("C_ML")) == 1
    assert len(card.versions) == 4
    assert [c.args["ts"] for c in bot.slack.calls_to("chat.update")] == [card.ts] * 4
    assert bot.slack.ephemerals("U_ALICE")[1:] == []  # only the "Started …" answer to the create
    assert [(a.action, a.allowed) for a in await bot.audit(job_id, 5)] == [
        ("create", True),
        ("refresh", True),
        ("pause", True),
        ("resume", True),
        ("cancel", True),
    ]
    # The card remembered is the one clicked, drawn from the latest version of the job.
    watch = await bot.store.get_watch(job_id, "C_ML")
    tracked = await bot.store.get_job(job_id)
    assert watch is not None and tracked is not None
    assert (watch.card_ts, watch.card_version) == (card.ts, tracked.version)
    # Each change waits for the notifier (woken at once), naming who clicked for the thread reply.
    assert bot.services.outbox_ready.is_set()
    notes = [note for note in await _deliver_outbox(bot) if note.kind == "status"]  # not the loss curve
    said = [(note.payload["current"], note.payload.get("actor")) for note in notes]
    assert said == [
        ("running", None),  # what Refresh found: nobody in Slack caused it
        ("paused", "U_ALICE"),
        ("queued", "U_ALICE"),
        ("cancelled", "U_ALICE"),
    ]


async def _deliver_outbox(bot: BotRig) -> list[OutboxItem]:
    """Play the notifier (not running here): take every pending note, in order."""
    delivered: list[OutboxItem] = []
    while notes := await bot.store.claim_due_outbox(now=bot.services.clock() + 1, limit=50, lease=1):
        for note in notes:
            await bot.store.mark_sent(note.id, ts="1.0", now=bot.services.clock())
        delivered.extend(notes)
    return delivered


async def test_refresh_shows_what_the_api_says_now(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.set_job(
        job_id, status="failed", error={"code": "invalid_file", "message": "Line 3 is not JSON"}
    )
    await bot.slack.sender.click(card, "job_refresh")
    await bot.slack.wait_for(lambda: card.edited)
    text = texts_of([card])
    assert "Failed" in text and "invalid_file" in text and "Line 3 is not JSON" in text
    assert button_labels(card) == ["Refresh"]
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status == "failed"


async def test_a_click_the_api_refuses_is_explained_privately(bot: BotRig) -> None:
    job_id, card = await bot.running_job()
    await bot.slack.sender.click(card, "job_refresh")
    await bot.slack.wait_for(lambda: "Pause" in button_labels(card))
    # Someone cancels it in the dashboard; the card still offers Pause.
    await bot.services.api.cancel_job(job_id)
    sent = await bot.slack.sender.click(card, "job_pause")
    answer = await bot.answer_text(sent)
    assert "The fine-tuning API refused to pause" in answer
    assert "(invalid_job_state)" in answer
    assert (await bot.answer(sent)).body.get("replace_original") is False  # the card stays as it was


async def test_buttons_on_a_private_status_card_replace_that_card(bot: BotRig) -> None:
    job_id, _ = await bot.running_job()
    await bot.answer(await bot.slack.sender.slash(f"status {job_id}"))
    private = next(e for e in bot.slack.ephemerals("U_ALICE") if "Pause" in button_labels(e))
    sent = await bot.slack.sender.click(private, "job_pause")
    assert sent.status == 200
    await bot.slack.wait_for(lambda: "Resume" in button_labels(private))
    assert await bot.job_status_in_emulator(job_id) == "paused"
    assert (await bot.answer(sent)).body.get("replace_original") is True


async def test_next_page_walks_a_long_channel_list(bot: BotRig) -> None:
    now = bot.services.clock()
    for n in range(PAGE_SIZE + 3):
        job_id = f"ftjob-page{n:03d}"
        await bot.store.track_job(
            NewJob(job_id, "openai", "C_ML", "U_ALICE", Origin.COMMAND, "running", BASE_MODEL, None, {}),
            now=now + n,
        )
    sent = await bot.slack.sender.slash("list")
    await bot.answer(sent)
    first = next(e for e in bot.slack.ephemerals("U_ALICE") if "Next page" in button_labels(e))
    assert "ftjob-page022" in texts_of([first]) and "ftjob-page000" not in texts_of([first])
    await bot.slack.sender.click(first, "jobs_next_page")
    await bot.slack.wait_for(lambda: "ftjob-page000" in texts_of([first]))
    assert "(page 2)" in texts_of([first])
    assert "Next page" not in button_labels(first)


async def test_next_page_walks_the_accounts_jobs_from_the_api(bot: BotRig) -> None:
    created = [
        (await bot.services.api.create_job(JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE))).id
        for _ in range(PAGE_SIZE + 2)
    ]
    await bot.answer(await bot.slack.sender.slash("list all"))
    listing = next(e for e in bot.slack.ephemerals("U_ALICE") if "Next page" in button_labels(e))
    page_one = texts_of([listing])
    await bot.slack.sender.click(listing, "jobs_next_page")
    await bot.slack.wait_for(lambda: "(page 2)" in texts_of([listing]))
    seen = page_one + texts_of([listing])
    assert all(job_id in seen for job_id in created)
    # Both reads of the account's jobs are in the audit log (written before each answer): the command and
    # the click.
    lists = [
        (row.action, row.user, row.allowed, row.result)
        for row in audit_rows(bot.services.settings.db_path, channel="C_ML")
        if row.action == "list"
    ]
    assert lists == [
        ("list", "U_ALICE", True, f"the account, page 1: {PAGE_SIZE} jobs and more"),
        ("list", "U_ALICE", True, "the account, page 2: 2 jobs"),
    ]


async def test_a_stale_next_page_button_is_explained(bot: BotRig) -> None:
    await bot.answer(await bot.slack.sender.slash("list"))
    listing = bot.slack.ephemerals("U_ALICE")[-1]
    # A button value from an older version of TuneOps (or tampered with).
    listing.blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Next page"},
                    "action_id": "jobs_next_page",
                    "value": "{not json",
                }
            ],
        }
    )
    sent = await bot.slack.sender.click(listing, "jobs_next_page")
    assert "out of date" in await bot.answer_text(sent)
    assert ListCursor.decode("{not json") is None


@pytest.mark.parametrize("state", ["validating_files", "queued", "running", "paused"])
async def test_cancel_works_from_every_state_that_offers_it(bot: BotRig, state: str) -> None:
    job_id, card = await bot.create_job()
    await bot.control.set_job(job_id, status=state, step=3)
    await bot.slack.sender.click(card, "job_refresh")
    await bot.slack.wait_for(lambda: card.edited)
    assert state.split("_")[0].capitalize() in texts_of([card])
    assert "Cancel" in button_labels(card)
    await bot.slack.sender.click(card, "job_cancel")
    await bot.slack.wait_for(lambda: button_labels(card) == ["Refresh"])
    assert await bot.job_status_in_emulator(job_id) == "cancelled"


async def test_refresh_on_a_finished_job_shows_its_result(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.advance(24 * 3600)  # the emulated job runs to the end
    await bot.slack.sender.click(card, "job_refresh")
    await bot.slack.wait_for(lambda: "Succeeded" in texts_of([card]))
    job = await bot.services.api.retrieve_job(job_id)
    assert job.fine_tuned_model and job.fine_tuned_model in texts_of([card])
    assert button_labels(card) == ["Try", "Refresh"]  # no Deploy: an OpenAI model answers without one
    # Refresh stays available, and changes nothing more.
    await bot.slack.sender.click(card, "job_refresh")
    await bot.slack.wait_for(lambda: len(card.versions) == 2)
    assert button_labels(card) == ["Try", "Refresh"]


async def test_clicks_racing_on_one_card_leave_it_showing_the_last_answer(bot: BotRig) -> None:
    job_id, card = await bot.running_job()
    # A Refresh and a Cancel a moment apart (a double click, two people): they are done one after the
    # other, so the card and the record end with what the API said last.
    await asyncio.gather(
        bot.slack.sender.click(card, "job_refresh"),
        bot.slack.sender.click(card, "job_cancel", user="U_ALICE"),
        bot.slack.sender.click(card, "job_refresh", user="U_BOB"),
    )
    entries = await bot.audit(job_id, 4)
    assert sorted(a.action for a in entries[1:]) == ["cancel", "refresh", "refresh"]
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status == "cancelled"
    assert "Cancelled" in texts_of([card]) and button_labels(card) == ["Refresh"]
    statuses = [note.payload["current"] for note in await _deliver_outbox(bot) if note.kind == "status"]
    assert statuses[-1] == "cancelled" and statuses.count("cancelled") == 1


async def test_an_unknown_status_is_told_exactly_as_the_api_sent_it(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.set_job(job_id, status="Quarantined_NEW")
    bot.slack.fail_next(1, status=400, method="chat.update")  # the card cannot be edited: the summary says it
    await bot.slack.sender.click(card, "job_refresh")
    answer = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "couldn't edit the card" in e.text]
    )
    assert f"`{job_id}` is `Quarantined_NEW`." in answer[0].text
    assert "quarantined_new" not in texts_of(answer)
