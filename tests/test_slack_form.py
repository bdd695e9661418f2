"""The create form: opened by `/finetune create`, filled in and submitted in the Slack stand-in."""

from __future__ import annotations

from bot.jobs.creator import CREATOR_METADATA_KEY
from bot.jobs.records import Origin
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE
from bot.sandbox.standin.models import OpenView, StoredEphemeral
from tests.support.audit import audit_rows
from tests.support.runtime import BASE_MODEL, BotRig, button_labels, texts_of


async def _open_form(bot: BotRig, *, user: str = "U_ALICE", channel: str = "C_ML") -> OpenView:
    await bot.slack.sender.slash("create", user=user, channel=channel)
    return await bot.slack.wait_for(lambda: bot.slack.open_view(user))


async def _started_note(bot: BotRig, *, user: str = "U_ALICE") -> StoredEphemeral:
    """The private "Started …" the bot sends once a job from a form is started and its card posted."""
    notes = await bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals(user) if "Started" in e.text])
    return notes[0]


async def test_a_good_form_closes_and_starts_the_job_in_the_channel_it_came_from(bot: BotRig) -> None:
    view = await _open_form(bot, channel="C_TRAINING")
    sent = await bot.slack.sender.submit_view(
        view,
        {
            "model": BASE_MODEL,
            "training_file": DEMO_TRAINING_FILE,
            "validation_file": DEMO_VALIDATION_FILE,
            "suffix": "from-form",
            "epochs": "2",
            "method": "supervised",
        },
    )
    assert sent.status == 200
    assert bot.slack.open_view("U_ALICE") is None  # the modal closed

    # A form has no response_url: the confirmation is a private message in the job's channel. It is the
    # bot's last word on the request, so the job, its watch and its card are all stored by then.
    note = await _started_note(bot)
    assert note.channel == "C_TRAINING"
    (card,) = bot.slack.messages("C_TRAINING")
    job = (await bot.store.channel_jobs("C_TRAINING"))[0]
    assert job.job_id in card.text and job.job_id in note.text
    assert (job.origin, job.creator, job.owner_channel) == (Origin.FORM, "U_ALICE", "C_TRAINING")
    api_job = await bot.services.api.retrieve_job(job.job_id)
    assert api_job.user_provided_suffix == "from-form"
    assert api_job.validation_file == DEMO_VALIDATION_FILE
    assert (api_job.metadata or {}).get(CREATOR_METADATA_KEY) == "U_ALICE"


async def test_bad_input_is_shown_next_to_each_field_and_the_form_stays_open(bot: BotRig) -> None:
    view = await _open_form(bot)
    sent = await bot.slack.sender.submit_view(
        view,
        {
            "model": BASE_MODEL,
            "training_file": DEMO_TRAINING_FILE,
            "epochs": "0",
            "seed": "forty-two",
            "lr_multiplier": "-1",
            "beta": "0.1",
        },
    )
    assert sent.status == 200
    assert sent.body["response_action"] == "errors"
    errors = sent.body["errors"]
    assert set(errors) == {"epochs", "seed", "lr_multiplier", "beta"}
    assert "1–50" in errors["epochs"] and "whole number" in errors["seed"]
    still_open = bot.slack.open_view("U_ALICE")
    assert still_open is not None and still_open.errors == errors
    assert (await bot.services.api.list_jobs()).data == []
    assert bot.slack.messages("C_ML") == []


async def test_an_api_refusal_after_the_form_closed_reaches_the_person(bot: BotRig) -> None:
    # A missing file is caught before the form closes (tests/test_slack_form_retry.py); a suffix only the
    # API refuses is not.
    view = await _open_form(bot)
    sent = await bot.slack.sender.submit_view(
        view, {"model": BASE_MODEL, "training_file": DEMO_TRAINING_FILE, "suffix": "not:allowed"}
    )
    assert sent.status == 200 and sent.body is None  # the form was fine: it closes
    note = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "refused" in e.text]
    )
    assert note[0].channel == "C_ML"
    assert "not:allowed" in texts_of(note)
    assert bot.slack.messages("C_ML") == []


async def test_a_form_create_the_api_failed_on_says_the_job_may_have_started(bot: BotRig) -> None:
    await bot.control.set_faults(status=503, count=1, method="POST", path_contains="/fine_tuning/jobs")
    view = await _open_form(bot)
    sent = await bot.slack.sender.submit_view(
        view, {"model": BASE_MODEL, "training_file": DEMO_TRAINING_FILE}
    )
    assert sent.status == 200 and sent.body is None
    note = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "may have started anyway" in e.text]
    )
    assert "`/finetune list all mine` before trying again" in note[0].text
    assert "refused" not in texts_of(note)


async def test_a_form_in_a_channel_the_bot_cannot_post_to_reaches_the_person_directly(bot: BotRig) -> None:
    bot.slack.set_channel_state("C_PRIVATE", "not_in_channel")
    view = await _open_form(bot, channel="C_PRIVATE")
    sent = await bot.slack.sender.submit_view(
        view, {"model": BASE_MODEL, "training_file": DEMO_TRAINING_FILE}
    )
    assert sent.status == 200 and sent.body is None
    # Neither the card nor a private message can go to the channel: the person gets a direct message with
    # the job id, why, what to do, and the card.
    direct = await bot.slack.wait_for(lambda: bot.slack.messages("D_ALICE"))
    job = (await bot.store.channel_jobs("C_PRIVATE"))[0]
    said = texts_of(direct)
    assert f"Started `{job.job_id}`, but I can't post in <#C_PRIVATE>" in said
    assert "not_in_channel" in said and "/invite @TuneOps" in said
    assert f"`/finetune watch {job.job_id}` there" in said
    assert button_labels(direct[0]) == ["Cancel", "Refresh"]
    assert bot.slack.messages("C_PRIVATE") == []
    assert await bot.store.channel_unreachable("C_PRIVATE") == "not_in_channel"


async def test_a_form_for_a_channel_known_to_refuse_asks_for_an_invitation_first(bot: BotRig) -> None:
    bot.slack.set_channel_state("C_PRIVATE", "not_in_channel")
    first = await _open_form(bot, channel="C_PRIVATE")
    await bot.slack.sender.submit_view(first, {"model": BASE_MODEL, "training_file": DEMO_TRAINING_FILE})
    await bot.slack.wait_for(lambda: bot.slack.messages("D_ALICE"))  # the first job, told directly

    # The channel is now known to refuse: the next form stays open and asks for an invitation, and no
    # second job is started.
    second = await _open_form(bot, channel="C_PRIVATE")
    values = {"model": BASE_MODEL, "training_file": DEMO_TRAINING_FILE}
    held = await bot.slack.sender.submit_view(second, values)
    assert held.body["response_action"] == "errors"
    assert (
        "/invite @TuneOps" in held.body["errors"]["model"]
        and "not_in_channel" in held.body["errors"]["model"]
    )
    still_open = bot.slack.open_view("U_ALICE")
    assert still_open is not None
    assert len((await bot.services.api.list_jobs()).data) == 1
    entries = await bot.slack.wait_for(
        lambda: [
            e
            for e in audit_rows(bot.services.settings.db_path, channel="C_PRIVATE")
            if (e.result or "").startswith("not started")
        ]
    )
    assert (entries[0].action, entries[0].job_id, entries[0].user) == ("create", None, "U_ALICE")

    # Invited, the person submits the same form again: the job starts and its card is in the channel.
    bot.slack.set_channel_state("C_PRIVATE", "ok")
    again = await bot.slack.sender.submit_view(still_open, values)
    assert again.status == 200 and again.body is None
    note = await _started_note(bot)
    assert note.channel == "C_PRIVATE"
    (card,) = bot.slack.messages("C_PRIVATE")
    assert card.metadata is not None and card.metadata["event_payload"]["job_id"] in note.text
    assert len((await bot.services.api.list_jobs()).data) == 2
    assert await bot.store.channel_unreachable("C_PRIVATE") is None
