"""Ids the stand-in makes up the way Slack does: random ids for views and the like, and the `block_id` and
`action_id` Slack fills in for blocks and elements sent without them."""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

from bot.sandbox.standin.models import JSON

_ALNUM = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def _short_id() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(5))


def fill_block_ids(blocks: list[JSON]) -> list[JSON]:
    """Give every block a `block_id` and every interactive element an `action_id`, as Slack does when
    it stores blocks that lack them (a view's `state.values` and a click's payload are keyed by them)."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id())
        for element in block_elements(block):
            if isinstance(element, dict) and element.get("type") not in ("image", "plain_text", "mrkdwn"):
                element.setdefault("action_id", _short_id())
    return filled


def block_elements(block: dict[str, Any]) -> list[Any]:
    """The elements a block holds that a person can act on (or that carry an id): accessory, input, actions."""
    elements: list[Any] = []
    if isinstance(block.get("accessory"), dict):
        elements.append(block["accessory"])
    if isinstance(block.get("element"), dict):
        elements.append(block["element"])
    if block.get("type") == "actions" and isinstance(block.get("elements"), list):
        elements.extend(block["elements"])
    return elements
