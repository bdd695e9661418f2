"""The create form never loses what was typed: what the API can tell at once (an unknown model, a file id
that does not exist) keeps the modal open with the error under the field; a create the API refuses later
comes back as a private note with its words by the field and a "Fix and retry" button that reopens the
form as it was typed."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from bot.sandbox.standin.models import OpenView, StoredEphemeral
from bot.views.actions import ACTION_FIX_AND_RETRY
from tests.support.audit import audit_rows
from tests.support.runtime import BASE_MODEL, BotRig, button_labels, texts_of


async def _open_form(bot: BotRig, *, user: str = "U_ALICE", channel: str = "C_ML") -> OpenView:
    await bot.slack.sender.slash("create", user=user, channel=channel)
    return await bot.slack.wait_for(lambda: bot.slack.open_view(user))


def _initial_values(view: OpenView) -> dict[str, Any]:
    """What each field of the open modal shows before anyone types: `initial_value` by block id."""
    shown: dict[str, Any] = {}
    for block in view.view.get("blocks") or []:
        element = block.get("element") or {}
        if "initial_value" in element:
            shown[block["block_id"]] = element["initial_value"]
        elif "initial_option" in element:
            shown[block["block_id"]] = element["initial_option"]["value"]
    return shown


def _hints(view: OpenView) -> dict[str, str]:
    return {b["block_id"]: b["hint"]["text"] for b in view.view.get("blocks") or [] if b.get("hint")}


async def test_an_unknown_model_and_a_missing_file_keep_the_form_open_with_the_apis_words(
    bot: BotRig,
) -> None:
    view = await _open_form(bot)
    sent = await bot.slack.sender.submit_view(
        view, {"model": "nonexistent", "training_file": "file-missing", "suffix": "kept"}
    )
    assert sent.status == 200
    assert sent.body["response_action"] == "errors"
    errors = sent.body["errors"]
    assert set(errors) == {"model", "training_file"}  # both at once, not only the first
    assert "The model 'nonexistent' does not exist" in errors["model"]
    assert "file-missing" in errors["training_file"]
    still_open = bot.slack.open_view("U_ALICE")
    assert still_open is not None and still_open.errors == errors
    assert (await bot.services.api.list_jobs()).data == []
    assert bot.slack.messages("C_ML") == []


async def test_a_refused_form_comes_back_prefilled_through_fix_and_retry(bot: BotRig) -> None:
    view = await _open_form(bot, channel="C_TRAINING")
    typed = {
        "model": BASE_MODEL,
        "training_file": DEMO_TRAINING_FILE,
        "suffix": "has space",  # well-formed to TuneOps; refused by the API at create
        "epochs": "2",
        "seed": "42",
        "method": "supervised",
    }
    sent = await bot.slack.sender.submit_view(view, typed)
    assert sent.status == 200 and sent.body is None  # nothing the pre-check could see: the form closes

    def refused() -> list[StoredEphemeral]:
        return [e for e in bot.slack.ephemerals("U_ALICE") if "refused to start the job" in e.text]

    (note,) = await bot.slack.wait_for(refused)
    assert note.channel == "C_TRAINING"
    said = texts_of([note])
    assert "*Suffix* `has space`\n> Invalid value for 'suffix'" in said  # the API's words, by the field
    assert button_labels(note) == ["Fix and retry"]
    assert bot.slack.messages("C_TRAINING") == []

    click = await bot.slack.sender.click(note, ACTION_FIX_AND_RETRY)
    assert click.status == 200
    reopened = await bot.slack.wait_for(lambda: bot.slack.open_view("U_ALICE"))
    shown = _initial_values(reopened)
    assert {key: shown.get(key) for key in typed} == typed  # everything as typed
    assert "Invalid value for 'suffix'" in _hints(reopened)["suffix"]
    assert "C_TRAINING" in reopened.private_metadata  # the job still belongs to the channel it came from

    fixed = await bot.slack.sender.submit_view(reopened, {**typed, "suffix": "no-space"})
    assert fixed.status == 200 and fixed.body is None
    await bot.slack.wait_for(lambda: bot.slack.messages("C_TRAINING"))
    (job,) = (await bot.services.api.list_jobs()).data
    assert job.user_provided_suffix == "no-space" and job.seed == 42
    actions = [e.action for e in audit_rows(bot.services.settings.db_path, channel="C_TRAINING")]
    assert actions.count("open_form") == 2  # the first form, and the one "Fix and retry" opened


async def test_a_fix_and_retry_button_the_bot_did_not_make_opens_nothing(bot: BotRig) -> None:
    view = await _open_form(bot)
    await bot.slack.sender.submit_view(
        view, {"model": BASE_MODEL, "training_file": DEMO_TRAINING_FILE, "suffix": "a:b"}
    )
    (note,) = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "refused to start" in e.text]
    )
    assert bot.slack.open_view("U_ALICE") is None  # the form closed when it was submitted
    await bot.slack.sender.click(note, ACTION_FIX_AND_RETRY, value='{"c": "not a channel"}')
    answer = await bot.slack.wait_for(
        lambda: [e for e in bot.slack.ephemerals("U_ALICE") if "can't reopen that form" in e.text]
    )
    assert answer
    assert bot.slack.open_view("U_ALICE") is None
