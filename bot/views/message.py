"""A message ready for `chat.postMessage` / `chat.update` / `respond`, and the guard for Slack's limits.

`fit` is the only way to make one, and it passes every text through `bot.views.outbound` first.

slack_sdk validates single elements but not the message as a whole, so every view goes through `fit`: at
most 50 blocks, section text ≤ 3000, ≤ 10 fields of ≤ 2000, header ≤ 150, the fallback text ≤ 3000, and
about 11,000 characters of block text in total (Slack's undocumented `msg_blocks_too_long`). What does not
fit is cut or dropped with a visible note, never silently.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.views.format import truncate
from bot.views.outbound import safe_text, safe_tree

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
MAX_FALLBACK_TEXT = 3000
MAX_TOTAL_TEXT = 11_000
MIN_USEFUL_TEXT = 200


@dataclass(frozen=True)
class SlackMessage:
    """`text` is the notification fallback (also what screen readers and push notifications show)."""

    text: str
    blocks: list[dict[str, Any]]

    def as_kwargs(self) -> dict[str, Any]:
        """For `client.chat_postMessage(channel=…, **message.as_kwargs())` and friends."""
        return {"text": self.text, "blocks": self.blocks}


def fit(text: str, blocks: Iterable[Block | dict[str, Any]]) -> SlackMessage:
    """Build a `SlackMessage` that Slack will accept, whatever the size of its parts."""
    dicts: list[dict[str, Any]] = []
    checked: set[int] = set()  # ids of dicts already validated whole
    for block in blocks:
        as_dict: dict[str, Any] = safe_tree(_as_dict(block))
        if not _clamp(as_dict) and isinstance(block, Block):
            # Nothing was cut: its elements were validated as they became JSON, so only the block's own
            # rules are left (parsing the JSON back to validate it all again doubled a card's cost).
            block.validate_json()
            checked.add(id(as_dict))
        dicts.append(as_dict)
    fitted = _within_count(_within_budget(dicts))
    if fitted is not dicts:  # blocks were shrunk, dropped or added: validate every one of them again
        checked.clear()
    for block in fitted:
        if id(block) not in checked:
            _validate(block)
    return SlackMessage(text=truncate(safe_text(text), MAX_FALLBACK_TEXT) or "…", blocks=fitted)


def _as_dict(block: Block | dict[str, Any]) -> dict[str, Any]:
    """The block's JSON without validating the block itself yet: its lengths are clamped first.

    (Elements inside — buttons, confirms, inputs — are still validated by slack_sdk as they are built.)"""
    if isinstance(block, Block):
        attributes: dict[str, Any] = block.get_non_null_attributes()
        return attributes
    return copy.deepcopy(block)


def _validate(block: dict[str, Any]) -> None:
    """slack_sdk's own checks on the final block: a view that still breaks a limit is a bug, raised here
    rather than as a cryptic `invalid_blocks` from Slack."""
    parsed = Block.parse(block)
    if parsed is not None:
        parsed.to_dict()


def more_note(count: int) -> dict[str, Any]:
    noun = "item" if count == 1 else "items"
    return ContextBlock(elements=[MarkdownTextObject(text=f"…{count} more {noun} not shown")]).to_dict()


def block_text_length(block: dict[str, Any]) -> int:
    """The characters Slack counts towards its cumulative limit: every `text` string in the block."""
    return sum(len(text) for text in _texts(block))


def _texts(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def _clamp(block: dict[str, Any]) -> bool:
    """Cut the block's texts and lists to Slack's limits, in place; True when anything was cut."""
    kind = block.get("type")
    cut = False
    if kind == "section":
        cut = _clamp_text(block.get("text"), MAX_SECTION_TEXT)
        fields = block.get("fields")
        if isinstance(fields, list):
            cut = cut or len(fields) > MAX_FIELDS
            del fields[MAX_FIELDS:]
            for field in fields:
                cut = _clamp_text(field, MAX_FIELD_TEXT) or cut
    elif kind == "header":
        cut = _clamp_text(block.get("text"), MAX_HEADER_TEXT)
    elif kind == "context":
        elements = block.get("elements")
        if isinstance(elements, list):
            cut = len(elements) > MAX_CONTEXT_ELEMENTS
            del elements[MAX_CONTEXT_ELEMENTS:]
            for element in elements:
                cut = _clamp_text(element, MAX_CONTEXT_TEXT) or cut
    return cut


def _clamp_text(text_object: object, limit: int) -> bool:
    """Cut a text object's text to `limit`, in place; True when it was cut."""
    if isinstance(text_object, dict) and isinstance(text_object.get("text"), str):
        before = text_object["text"]
        text_object["text"] = truncate(before, limit) or "…"
        return bool(text_object["text"] != before)
    return False


def _split_tail(blocks: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Trailing actions blocks (the buttons) survive every cut: without them the message is inert."""
    end = len(blocks)
    while end > 0 and blocks[end - 1].get("type") == "actions":
        end -= 1
    return list(blocks[:end]), list(blocks[end:])


def _within_count(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    body, tail = _split_tail(blocks)
    room = max(0, MAX_BLOCKS - 1 - len(tail))
    tail = tail[: MAX_BLOCKS - 1 - room]
    return [*body[:room], more_note(len(body) - room), *tail]


def _within_budget(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if sum(block_text_length(block) for block in blocks) <= MAX_TOTAL_TEXT:
        return blocks
    body, tail = _split_tail(blocks)
    budget = MAX_TOTAL_TEXT - sum(block_text_length(block) for block in tail) - 40  # room for the note
    kept: list[dict[str, Any]] = []
    for block in body:
        size = block_text_length(block)
        if size > budget:
            shrunk = _shrink(block, budget)
            if shrunk is not None:
                kept.append(shrunk)
            break
        kept.append(block)
        budget -= size
    hidden = len(body) - len(kept)
    return [*kept, *([more_note(hidden)] if hidden else []), *tail]


def _shrink(block: dict[str, Any], budget: int) -> dict[str, Any] | None:
    """Cut a section to what is left of the budget, if enough is left to be worth reading."""
    if block.get("type") != "section" or budget < MIN_USEFUL_TEXT:
        return None
    fields = block.get("fields")
    text = block.get("text")
    parts = (len(fields) if isinstance(fields, list) else 0) + (1 if isinstance(text, dict) else 0)
    share = budget // max(parts, 1) - 10
    if share < 20:
        return None
    _clamp_text(text, share)
    for field in fields if isinstance(fields, list) else []:
        _clamp_text(field, share)
    return block
