"""The create form: a valid modal, and submissions parsed into a spec or per-field errors."""

from __future__ import annotations

import json
from typing import Any

from bot.finetune.spec import JobSpec
from bot.views.actions import CREATE_CALLBACK_ID
from bot.views.create_form import channel_of, create_modal, parse_create_form
from tests.support.views import assert_valid_modal


def submitted(**values: str) -> dict[str, dict[str, dict[str, Any]]]:
    """`view.state.values` as Slack sends it: every input present, empty ones with value None."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for key in (
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "epochs",
        "batch_size",
        "lr_multiplier",
        "seed",
        "beta",
    ):
        state[key] = {"value": {"type": "plain_text_input", "value": values.get(key)}}
    method = values.get("method", "supervised")
    state["method"] = {
        "value": {
            "type": "static_select",
            "selected_option": {"value": method, "text": {"type": "plain_text", "text": method}},
        }
    }
    return state


def test_modal_is_valid_and_carries_the_channel() -> None:
    view = create_modal(channel_id="C0123", command="/finetune")
    assert_valid_modal(view)
    assert view["type"] == "modal"
    assert view["callback_id"] == CREATE_CALLBACK_ID == "create_job"
    assert json.loads(view["private_metadata"]) == {"channel_id": "C0123"}
    assert channel_of(view["private_metadata"]) == "C0123"
    inputs = {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}
    assert set(inputs) == {
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "epochs",
        "batch_size",
        "lr_multiplier",
        "seed",
        "method",
        "beta",
    }
    assert not inputs["model"].get("optional") and not inputs["training_file"].get("optional")
    assert inputs["seed"]["optional"] and inputs["suffix"]["optional"]
    method = inputs["method"]["element"]
    assert method["type"] == "static_select"
    assert [option["value"] for option in method["options"]] == ["supervised", "dpo"]
    assert method["initial_option"]["value"] == "supervised"


def test_modal_prefills_initial_values() -> None:
    view = create_modal(
        channel_id="C1", command="/ft", initial={"suffix": "nightly", "method": "dpo", "epochs": "3"}
    )
    assert_valid_modal(view)
    inputs = {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}
    assert inputs["suffix"]["element"]["initial_value"] == "nightly"
    assert inputs["epochs"]["element"]["initial_value"] == "3"
    assert inputs["method"]["element"]["initial_option"]["value"] == "dpo"


def test_foreign_metadata_gives_no_channel() -> None:
    assert channel_of("not json") is None
    assert channel_of("[1, 2]") is None
    assert channel_of('{"channel_id": ""}') is None


def test_good_submission_gives_the_spec() -> None:
    spec, errors = parse_create_form(
        submitted(
            model=" gpt-4o-mini-2024-07-18 ",
            training_file="file-abc",
            epochs="auto",
            seed="7",
            method="dpo",
            beta="0.2",
        ),
        provider="openai",
    )
    assert errors == {}
    assert spec == JobSpec(
        model="gpt-4o-mini-2024-07-18",
        training_file="file-abc",
        epochs="auto",
        seed=7,
        method="dpo",
        beta=0.2,
    )


def test_bad_submission_gives_every_error_under_its_field() -> None:
    spec, errors = parse_create_form(
        submitted(seed="abc", epochs="99", lr_multiplier="fast", beta="0.1", suffix="with space"),
        provider="azure",
    )
    assert spec is None
    assert set(errors) == {"model", "training_file", "seed", "epochs", "lr_multiplier", "beta", "suffix"}
    assert errors["model"].startswith("Required")
    assert errors["seed"] == "Must be a whole number, e.g. 42"
    assert errors["epochs"] == "Must be 1–50 or auto"
    assert "positive number" in errors["lr_multiplier"]
    assert "dpo" in errors["beta"]
    assert "Azure" in errors["suffix"]
    assert all("`" not in message for message in errors.values())  # modal errors are plain text
