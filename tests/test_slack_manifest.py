"""`manifest.yml` installs the app as it is: valid against Slack's manifest constraints, the command the bot
answers, interactivity for its buttons and form, Socket Mode, and a scope for every Web API call it makes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.config import Settings
from bot.jobs.grammar import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "data" / "slack_app_manifest.schema.json").read_text())

# Web API methods the product calls (slack_sdk method names) → the bot scopes that allow them (any of).
SCOPES_FOR_METHOD: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "views_open": set(),  # needs only the trigger_id of a command or click
    "views_publish": set(),  # the app's own Home tab
    "users_conversations": {"channels:read", "groups:read"},  # a person's channels, for their Home tab
    "auth_test": set(),
    "conversations_replies": {"channels:history", "groups:history"},
    "conversations_history": {"channels:history", "groups:history"},
    "users_lookupByEmail": {"users:read.email"},  # a job's `owner=<email>` metadata
    "views_update": set(),  # a modal the app opened (Upload & start: "uploading…", then the create form)
    "files_info": {"files:read"},  # a shared or picked training file, to download and check it
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in Draft7Validator(SCHEMA).iter_errors(document)
    ]


def test_manifest_is_valid(manifest: dict[str, Any]) -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert schema_errors(manifest) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("settings", "interactivty"), {"is_enabled": True}),  # a misspelt key
        (("features", "bot_user", "display_name"), "Tune Ops"),  # spaces are not allowed
        (("display_information", "description"), "x" * 141),
        (("features", "slash_commands"), [{"command": "finetune", "description": "no slash"}]),
    ],
)
def test_the_schema_catches_mistakes(manifest: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    broken = copy.deepcopy(manifest)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert schema_errors(broken)


def test_the_command_is_the_one_the_bot_answers(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [Settings.model_fields["command"].default]
    hint = commands[0]["usage_hint"]
    assert all(word in hint for word in SUBCOMMANDS), hint
    assert commands[0]["description"]


def test_socket_mode_with_interactivity_and_no_request_urls(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "request_url" not in settings["interactivity"]
    # The bot invited into a channel (its waiting notes go out at once), a person opening the Home tab,
    # and messages in the channels it is in (a shared training file gets its pre-flight report); no
    # request URL.
    assert settings["event_subscriptions"] == {
        "bot_events": ["member_joined_channel", "app_home_opened", "message.channels", "message.groups"]
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert all("url" not in command for command in manifest["features"]["slash_commands"])
    assert manifest["features"]["bot_user"]["display_name"]


def test_slack_shows_the_long_description(manifest: dict[str, Any]) -> None:
    # Slack's app settings page refuses a long description under 175 characters.
    assert len(manifest["display_information"]["long_description"]) >= 175


def _methods_called() -> set[str]:
    pattern = re.compile(
        r"\.(chat_\w+|views_\w+|conversations_\w+|auth_\w+|users_\w+|reactions_\w+|files_\w+)\("
    )
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for path in (ROOT / package).rglob("*.py"):
            if "standin" in path.parts or "emulator" in path.parts:
                continue  # the fakes answer these calls, they do not make them
            found.update(pattern.findall(path.read_text()))
    return found


def test_every_web_api_call_has_its_scope_and_no_scope_is_spare(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = _methods_called()
    assert {"chat_postMessage", "chat_update", "views_open"} <= called
    unknown = called - set(SCOPES_FOR_METHOD)
    assert not unknown, f"add these methods and their scopes to SCOPES_FOR_METHOD: {unknown}"
    needed = {"commands"}  # the slash command itself
    for method in called:
        allowed_by = SCOPES_FOR_METHOD[method]
        if allowed_by:
            assert allowed_by & scopes, f"{method} needs one of {allowed_by}"
            needed |= allowed_by
    # chat:write.public: cards in public channels the bot was not invited to; users:read: Slack grants
    # users:read.email only with it (channels:read and groups:read are needed by users.conversations).
    assert scopes - needed == {"chat:write.public", "users:read"}
