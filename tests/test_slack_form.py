"""The create form: opened by `/finetune create`, filled in and submitted in the Slack stand-in."""

from __future__ import annotations

from bot.creator import CREATOR_METADATA_KEY
from bot.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE
from bot.standin.models import OpenView
from storage.records import Origin
from tests.support.runtime import BASE_MODEL, BotRig, texts_of


async def _open_form(bot: BotRig, *, user: str = "U_ALICE", channel: str = "C_ML") -> OpenView:
    await bot.slack.sender.slash("create", user=user, channel=channel)
    return await bot.slack.wait_for(lambda: bot.slack.open_view(user))


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

    card = (await bot.slack.wait_for(lambda: bot.slack.messages("C_TRAINING")))[0]
    job = (await bot.store.channel_jobs("C_TRAINING"))[0]
    assert job.job_id in card.text
    assert (job.origin, job.creator, job.owner_channel) == (Origin.FORM, "U_ALICE", "C_TRAINING")
    api_job = await bot.services.api.retrieve_job(job.job_id)
    assert api_job.user_provided_suffix == "from-form"
    assert api_job.validation_file == DEMO_VALIDATION_FILE
    assert (api_job.metadata or {}).get(CREATOR_METADATA_KEY) == "U_ALICE"
    # A form has no response_url: the confirmation is a private message in the job's channel.
    note = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "Started" in e.text]
    )
    assert note[0].channel == "C_TRAINING"


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
    view = await _open_form(bot)
    sent = await bot.slack.sender.submit_view(view, {"model": BASE_MODEL, "training_file": "file-missing"})
    assert sent.status == 200 and sent.body is None  # the form was fine: it closes
    note = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "refused" in e.text]
    )
    assert note[0].channel == "C_ML"
    assert "file-missing" in texts_of(note)
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
