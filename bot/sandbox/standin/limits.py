"""The Block Kit limits Slack enforces on the server side, checked the way Slack reports them.

Slack answers a message whose blocks break a rule with `invalid_blocks` (and a JSON pointer per problem),
a message whose blocks together carry too much text with `msg_blocks_too_long`, and a modal that breaks a
rule with `invalid_arguments`. The numbers are the limits Slack documents for Block Kit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_ID_LENGTH = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_INPUT_LABEL = 2000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_OPTIONS = 100
# Undocumented: Slack refuses messages whose block text adds up to roughly 12-13k characters
# (slackapi/bolt-js#2509). The lower end is used so that a bot without its own guard is caught.
MAX_TOTAL_BLOCK_TEXT = 12_000
MAX_MESSAGE_TEXT = 40_000  # above this Slack truncates and warns `message_truncated`

MESSAGE_BLOCK_TYPES = frozenset(
    {"section", "header", "context", "divider", "actions", "image", "rich_text", "markdown", "input", "file"}
)
VIEW_BLOCK_TYPES = MESSAGE_BLOCK_TYPES | {"input"}
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


@dataclass(frozen=True)
class BlockProblem:
    message: str
    pointer: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


def _text_object(
    value: Any, pointer: str, *, max_length: int, plain_only: bool = False
) -> list[BlockProblem]:
    if not isinstance(value, dict):
        return [BlockProblem("expected an object", pointer)]
    problems: list[BlockProblem] = []
    kind = value.get("type")
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if kind not in allowed:
        problems.append(BlockProblem(f"must be one of {sorted(allowed)}", f"{pointer}/type"))
    text = value.get("text")
    if not isinstance(text, str) or not text:
        problems.append(BlockProblem("must be more than 0 characters", f"{pointer}/text"))
    elif len(text) > max_length:
        problems.append(BlockProblem(f"must be less than {max_length + 1} characters", f"{pointer}/text"))
    return problems


def _confirm(value: Any, pointer: str) -> list[BlockProblem]:
    if not isinstance(value, dict):
        return [BlockProblem("expected an object", pointer)]
    problems = _text_object(value.get("title"), f"{pointer}/title", max_length=100, plain_only=True)
    problems += _text_object(value.get("text"), f"{pointer}/text", max_length=300)
    problems += _text_object(value.get("confirm"), f"{pointer}/confirm", max_length=30, plain_only=True)
    problems += _text_object(value.get("deny"), f"{pointer}/deny", max_length=30, plain_only=True)
    if value.get("style") not in (None, "primary", "danger"):
        problems.append(BlockProblem("must be primary or danger", f"{pointer}/style"))
    return problems


def _element(value: Any, pointer: str) -> list[BlockProblem]:
    if not isinstance(value, dict):
        return [BlockProblem("expected an object", pointer)]
    problems: list[BlockProblem] = []
    action_id = value.get("action_id")
    if isinstance(action_id, str) and len(action_id) > MAX_ID_LENGTH:
        problems.append(BlockProblem("must be less than 256 characters", f"{pointer}/action_id"))
    kind = value.get("type")
    if kind == "button":
        problems += _text_object(
            value.get("text"), f"{pointer}/text", max_length=MAX_BUTTON_TEXT, plain_only=True
        )
        button_value = value.get("value")
        if button_value is not None and (
            not isinstance(button_value, str) or len(button_value) > MAX_BUTTON_VALUE
        ):
            problems.append(BlockProblem("must be a string of at most 2000 characters", f"{pointer}/value"))
        url = value.get("url")
        if url is not None and (not isinstance(url, str) or len(url) > MAX_URL):
            problems.append(BlockProblem("must be a string of at most 3000 characters", f"{pointer}/url"))
        if value.get("style") not in (None, "primary", "danger"):
            problems.append(BlockProblem("must be primary or danger", f"{pointer}/style"))
    elif kind in ("static_select", "overflow", "radio_buttons", "checkboxes"):
        options = value.get("options")
        limit = 5 if kind == "overflow" else MAX_OPTIONS
        if not isinstance(options, list) or not options:
            problems.append(BlockProblem("must provide at least one option", f"{pointer}/options"))
        elif len(options) > limit:
            problems.append(BlockProblem(f"must provide at most {limit} items", f"{pointer}/options"))
    elif not isinstance(kind, str):
        problems.append(BlockProblem("missing element type", f"{pointer}/type"))
    if "confirm" in value:
        problems += _confirm(value["confirm"], f"{pointer}/confirm")
    return problems


def _block(block: Any, pointer: str, allowed: frozenset[str]) -> list[BlockProblem]:
    if not isinstance(block, dict):
        return [BlockProblem("expected an object", pointer)]
    kind = block.get("type")
    if kind not in allowed:
        return [BlockProblem(f"unsupported type {kind!r}", f"{pointer}/type")]
    problems: list[BlockProblem] = []
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or len(block_id) > MAX_ID_LENGTH):
        problems.append(BlockProblem("must be a string of at most 255 characters", f"{pointer}/block_id"))
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(BlockProblem("must provide either text or fields", pointer))
        if "text" in block:
            problems += _text_object(block["text"], f"{pointer}/text", max_length=MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields:
                problems.append(BlockProblem("must provide at least one field", f"{pointer}/fields"))
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    problems.append(BlockProblem("must provide at most 10 items", f"{pointer}/fields"))
                for i, item in enumerate(fields):
                    problems += _text_object(item, f"{pointer}/fields/{i}", max_length=MAX_FIELD_TEXT)
        if "accessory" in block:
            problems += _element(block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        problems += _text_object(
            block.get("text"), f"{pointer}/text", max_length=MAX_HEADER_TEXT, plain_only=True
        )
    elif kind in ("context", "actions"):
        elements = block.get("elements")
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else MAX_ACTIONS_ELEMENTS
        if not isinstance(elements, list) or not elements:
            problems.append(BlockProblem("must provide at least one element", f"{pointer}/elements"))
        else:
            if len(elements) > limit:
                problems.append(BlockProblem(f"must provide at most {limit} items", f"{pointer}/elements"))
            seen: set[str] = set()
            for i, element in enumerate(elements):
                here = f"{pointer}/elements/{i}"
                if kind == "context":
                    if isinstance(element, dict) and element.get("type") in TEXT_TYPES:
                        problems += _text_object(element, here, max_length=MAX_SECTION_TEXT)
                    continue
                problems += _element(element, here)
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if isinstance(action_id, str):
                    if action_id in seen:
                        problems.append(
                            BlockProblem("action_id must be unique in a block", f"{here}/action_id")
                        )
                    seen.add(action_id)
    elif kind == "input":
        problems += _text_object(
            block.get("label"), f"{pointer}/label", max_length=MAX_INPUT_LABEL, plain_only=True
        )
        if "hint" in block:
            problems += _text_object(
                block["hint"], f"{pointer}/hint", max_length=MAX_INPUT_LABEL, plain_only=True
            )
        problems += _element(block.get("element"), f"{pointer}/element")
    return problems


def _check_blocks(blocks: list[Any], allowed: frozenset[str], maximum: int) -> list[BlockProblem]:
    problems: list[BlockProblem] = []
    if len(blocks) > maximum:
        problems.append(BlockProblem(f"must provide at most {maximum} items", "/blocks"))
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        problems += _block(block, f"/blocks/{i}", allowed)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in block_ids:
                problems.append(BlockProblem("block_id must be unique", f"/blocks/{i}/block_id"))
            block_ids.add(block_id)
    return problems


def _texts(value: Any) -> Iterator[str]:
    """Every `text` string inside a block tree (what Slack appears to add up for `msg_blocks_too_long`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def message_blocks_problems(blocks: list[Any]) -> list[BlockProblem]:
    """Why Slack would answer `invalid_blocks` to these message blocks (empty when it would not)."""
    return _check_blocks(blocks, MESSAGE_BLOCK_TYPES - {"input"}, MAX_MESSAGE_BLOCKS)


def total_block_text(blocks: list[Any]) -> int:
    return sum(len(text) for text in _texts(blocks))


def view_problems(view: Any) -> list[BlockProblem]:
    """Why Slack would answer `invalid_arguments` to views.open/update/push with this view."""
    if not isinstance(view, dict):
        return [BlockProblem("expected an object", "/view")]
    problems: list[BlockProblem] = []
    if view.get("type") not in ("modal", "home"):
        problems.append(BlockProblem("must be modal or home", "/view/type"))
    if view.get("type") == "modal":
        problems += _text_object(view.get("title"), "/view/title", max_length=MAX_VIEW_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _text_object(
                    view[key], f"/view/{key}", max_length=MAX_VIEW_TITLE, plain_only=True
                )
    callback_id = view.get("callback_id")
    if callback_id is not None and (not isinstance(callback_id, str) or len(callback_id) > MAX_ID_LENGTH):
        problems.append(BlockProblem("must be a string of at most 255 characters", "/view/callback_id"))
    metadata = view.get("private_metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > MAX_PRIVATE_METADATA):
        problems.append(BlockProblem("must be a string of at most 3000 characters", "/view/private_metadata"))
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append(BlockProblem("must provide blocks", "/view/blocks"))
        return problems
    has_input = any(isinstance(block, dict) and block.get("type") == "input" for block in blocks)
    if has_input and view.get("type") == "modal" and "submit" not in view:
        problems.append(BlockProblem("a modal with input blocks must have a submit button", "/view/submit"))
    for problem in _check_blocks(blocks, VIEW_BLOCK_TYPES, MAX_VIEW_BLOCKS):
        problems.append(BlockProblem(problem.message, "/view" + problem.pointer))
    return problems
