"""Slack's request payloads, built the way Slack builds them (slash command forms, block_actions,
view_submission, view_closed), from what the stand-in knows about the workspace."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.sandbox.standin.block_ids import block_elements
from bot.sandbox.standin.models import JSON, OpenView, StoredEphemeral, StoredMessage
from bot.sandbox.standin.workspace import Workspace

_STATELESS_ELEMENTS = frozenset({"button", "overflow", "image", "workflow_button"})
VERIFICATION_TOKEN = "standin-verification-token"  # Slack's deprecated per-app token, sent in every payload

# A value typed into a modal: text for text inputs and selects (the option's value), a list for
# multi-selects and checkboxes, None for "left empty".
InputValue = str | list[str] | None
ViewValues = Mapping[str, Mapping[str, InputValue] | InputValue]


class MissingRequiredInput(ValueError):
    """Slack would not send this submission: required inputs are empty (Slack shows the error itself)."""

    def __init__(self, block_ids: list[str]) -> None:
        super().__init__("required inputs left empty: " + ", ".join(block_ids))
        self.block_ids = block_ids


@dataclass(frozen=True)
class FoundElement:
    block_id: str
    element: JSON
    block: JSON


def action_ts(clock: float | None = None) -> str:
    return f"{clock if clock is not None else time.time():.6f}"


def user_json(workspace: Workspace, user_id: str) -> JSON:
    user = workspace.ensure_user(user_id)
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": workspace.team_id}


def team_json(workspace: Workspace) -> JSON:
    return {"id": workspace.team_id, "domain": workspace.team_domain}


def slash_command_form(
    workspace: Workspace,
    *,
    command: str,
    text: str,
    user: str,
    channel: str,
    response_url: str,
    trigger_id: str,
) -> bytes:
    """The form body Slack POSTs for a slash command."""
    user_obj = workspace.ensure_user(user)
    channel_obj = workspace.ensure_channel(channel)
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": workspace.team_id,
        "team_domain": workspace.team_domain,
        "channel_id": channel_obj.id,
        "channel_name": channel_obj.name,
        "user_id": user_obj.id,
        "user_name": user_obj.name,
        "command": command,
        "text": text,
        "api_app_id": workspace.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode()


def interactive_form(payload: JSON) -> bytes:
    """Interactivity payloads travel as a form with one field, `payload`, holding the JSON."""
    return urlencode({"payload": _dumps(payload)}).encode()


def _dumps(payload: JSON) -> str:
    return json.dumps(payload, separators=(",", ":"))


def iter_elements(blocks: list[JSON]) -> Iterator[FoundElement]:
    """Every interactive element of a block list, with its block_id."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or "")
        for element in block_elements(block):
            if isinstance(element, dict) and element.get("action_id"):
                yield FoundElement(block_id, element, block)


def find_element(blocks: list[JSON], action_id: str, block_id: str | None = None) -> FoundElement:
    for found in iter_elements(blocks):
        if found.element.get("action_id") == action_id and (block_id is None or found.block_id == block_id):
            return found
    where = f" in block {block_id!r}" if block_id else ""
    available = sorted({str(f.element.get("action_id")) for f in iter_elements(blocks)})
    raise LookupError(f"no element with action_id {action_id!r}{where}; the blocks have {available}")


def _option(element: JSON, value: str) -> JSON:
    options: list[JSON] = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return {"text": option.get("text"), "value": value}
    raise ValueError(f"{value!r} is not one of the options of {element.get('action_id')!r}")


def action_json(found: FoundElement, value: InputValue, at: str) -> JSON:
    """One entry of a block_actions payload's `actions` list."""
    element = found.element
    kind = str(element.get("type"))
    action: JSON = {
        "action_id": element.get("action_id"),
        "block_id": found.block_id,
        "type": kind,
        "action_ts": at,
    }
    if kind == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        button_value = value if isinstance(value, str) else element.get("value")
        if button_value is not None:
            action["value"] = button_value
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "radio_buttons", "overflow"):
        if not isinstance(value, str):
            raise ValueError(f"choose one option of {element.get('action_id')!r}")
        action["selected_option"] = _option(element, value)
    elif kind in ("multi_static_select", "checkboxes"):
        chosen = [value] if isinstance(value, str) else list(value or [])
        action["selected_options"] = [_option(element, v) for v in chosen]
    else:
        action["value"] = value
    return action


def _state_entry(element: JSON, value: InputValue) -> JSON:
    kind = str(element.get("type"))
    if kind in ("static_select", "radio_buttons", "external_select"):
        chosen = value if isinstance(value, str) and value else None
        return {"type": kind, "selected_option": _option(element, chosen) if chosen else None}
    if kind in ("multi_static_select", "checkboxes"):
        chosen_list = [value] if isinstance(value, str) else list(value or [])
        return {"type": kind, "selected_options": [_option(element, v) for v in chosen_list]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value or None}
    if kind == "file_input":
        # The ids of files the person attached; the sender puts Slack's whole file objects in their place.
        ids = [value] if isinstance(value, str) and value else list(value or [])
        return {"type": kind, "files": [{"id": file_id} for file_id in ids]}
    return {"type": kind, "value": value if value not in ("", None) else None}


def _initial(element: JSON) -> InputValue:
    if "initial_value" in element:
        return str(element["initial_value"])
    option = element.get("initial_option")
    if isinstance(option, dict) and "value" in option:
        return str(option["value"])
    if "initial_date" in element:
        return str(element["initial_date"])
    options = element.get("initial_options")  # checkboxes, multi-selects: Slack submits them as left
    if isinstance(options, list):
        return [str(o["value"]) for o in options if isinstance(o, dict) and "value" in o]
    return None


def _is_empty(entry: JSON) -> bool:
    return all(
        entry.get(key) in (None, "", [])
        for key in ("value", "selected_option", "selected_options", "selected_date", "files")
    )


def view_state(view: JSON, values: ViewValues, *, enforce_required: bool) -> JSON:
    """`view.state.values`: every input of the modal, with what the person typed or chose (or its initial
    value when they left it alone). Unknown block or action ids are an error of the caller."""
    blocks = list(view.get("blocks") or [])
    inputs = {
        found.block_id: found
        for found in iter_elements(blocks)
        if found.element.get("type") not in _STATELESS_ELEMENTS
    }
    for block_id, given in values.items():
        if block_id not in inputs:
            raise LookupError(f"the view has no input block {block_id!r}; it has {sorted(inputs)}")
        if isinstance(given, Mapping):
            expected = inputs[block_id].element.get("action_id")
            unknown = [key for key in given if key != expected]
            if unknown:
                raise LookupError(f"block {block_id!r} has action_id {expected!r}, not {unknown}")
    state: dict[str, JSON] = {}
    missing: list[str] = []
    for block_id, found in inputs.items():
        action_id = str(found.element.get("action_id"))
        given = values.get(block_id, _initial(found.element))
        value = given.get(action_id) if isinstance(given, Mapping) else given
        entry = _state_entry(found.element, value)
        state[block_id] = {action_id: entry}
        if found.block.get("type") == "input" and not found.block.get("optional") and _is_empty(entry):
            missing.append(block_id)
    if missing and enforce_required:
        raise MissingRequiredInput(missing)
    return state


def submitted_view(opened: OpenView | JSON, state: JSON) -> JSON:
    view = copy.deepcopy(opened.view if isinstance(opened, OpenView) else opened)
    view["state"] = {"values": state}
    view.pop("standin_errors", None)
    return view


def message_click_payload(
    ws: Workspace,
    current: StoredMessage | StoredEphemeral,
    user: str,
    found: FoundElement,
    value: InputValue,
    *,
    trigger_id: str,
    response_url: str,
) -> JSON:
    """The `block_actions` payload of a click on an element of a message, as Slack sends it."""
    is_ephemeral = isinstance(current, StoredEphemeral)
    channel = ws.ensure_channel(current.channel)
    payload: JSON = {
        "type": "block_actions",
        "user": user_json(ws, user),
        "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": current.ts,
            "channel_id": current.channel,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id,
        "team": team_json(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": channel.name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action_json(found, value, f"{time.time():.6f}")],
    }
    if isinstance(current, StoredMessage):
        # Slack sends the message the button is on (not for ephemeral messages).
        payload["message"] = ws.message_json(current)
    if current.thread_ts:
        payload["container"]["thread_ts"] = current.thread_ts
    return payload
