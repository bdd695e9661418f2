"""The channel settings form (`/finetune settings`) and the reader of what comes back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.jobs.channel_settings import (
    OUTCOMES,
    PROGRESS_CHOICES,
    THREAD_CHOICES,
    ChannelSettings,
    progress_choice,
)

SETTINGS_CALLBACK_ID = "channel_settings"
VALUE_ACTION = "value"
_YES_NO = {"yes": "Yes", "no": "No"}


def settings_modal(*, channel_id: str, settings: ChannelSettings) -> dict[str, Any]:
    blocks: list[SectionBlock | InputBlock] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"How <#{channel_id}> is told about its jobs: those created or watched here and those "
                "its subscriptions follow."
            )
        ),
        _radio("thread", "Changes told in the card's thread", THREAD_CHOICES, settings.thread),
        _broadcast(settings.broadcast),
        _radio("mention", "Mention the job's creator in outcomes", _YES_NO, _yes(settings.mention)),
        _radio(
            "dm_on_finish",
            "Direct message the creator when a job finishes",
            _YES_NO,
            _yes(settings.dm_on_finish),
        ),
        _radio("progress", "Progress notes", PROGRESS_CHOICES, settings.progress),
    ]
    view = View(
        type="modal",
        callback_id=SETTINGS_CALLBACK_ID,
        title=PlainTextObject(text="Channel settings"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=blocks,
    )
    result: dict[str, Any] = view.to_dict()
    return result


def parse_settings_form(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> ChannelSettings:
    """`view.state.values` → the settings; anything missing or odd keeps its default."""
    defaults = ChannelSettings()
    thread = _selected(values, "thread")
    broadcast_state = values.get("broadcast", {}).get(VALUE_ACTION) or {}
    chosen = broadcast_state.get("selected_options")
    broadcast = (
        frozenset(str(o.get("value")) for o in chosen if isinstance(o, dict)) & OUTCOMES
        if isinstance(chosen, list)
        else defaults.broadcast
    )
    return ChannelSettings(
        thread="outcomes" if thread == "outcomes" else "all",
        broadcast=broadcast,
        mention=_selected(values, "mention") != "no",
        dm_on_finish=_selected(values, "dm_on_finish") == "yes",
        progress=progress_choice(_selected(values, "progress")),
    )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _selected(values: Mapping[str, Mapping[str, Mapping[str, Any]]], block: str) -> str | None:
    state = values.get(block, {}).get(VALUE_ACTION) or {}
    option = state.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def _radio(block_id: str, label: str, choices: Mapping[str, str], initial: str) -> InputBlock:
    options = [Option(value=value, text=PlainTextObject(text=text)) for value, text in choices.items()]
    chosen = next((o for o in options if o.value == initial), options[0])
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=RadioButtonsElement(action_id=VALUE_ACTION, options=options, initial_option=chosen),
    )


def _broadcast(initial: frozenset[str]) -> InputBlock:
    options = [Option(value=s, text=PlainTextObject(text=s.capitalize())) for s in sorted(OUTCOMES)]
    chosen = [o for o in options if o.value in initial]
    return InputBlock(
        block_id="broadcast",
        label=PlainTextObject(text="Also broadcast to the channel"),
        optional=True,
        element=CheckboxesElement(action_id=VALUE_ACTION, options=options, initial_options=chosen or None),
    )
