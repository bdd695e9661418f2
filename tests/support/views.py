"""Checks every view test uses: a message or modal passes slack_sdk's own validation and Slack's limits."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.views.message import SlackMessage, block_text_length


def assert_valid_blocks(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()  # runs slack_sdk's validators on the block and every element in it
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(len(field["text"]) <= 2000 for field in fields)
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def assert_valid_message(message: SlackMessage) -> None:
    assert isinstance(message, SlackMessage)
    assert message.text.strip()
    assert len(message.text) <= 3000
    assert 1 <= len(message.blocks) <= 50
    assert sum(block_text_length(block) for block in message.blocks) <= 11_000
    assert_valid_blocks(message.blocks)


def assert_valid_modal(view: dict[str, Any]) -> None:
    parsed = View(**view)
    parsed.to_dict()
    assert len(view["blocks"]) <= 100
    assert_valid_blocks(view["blocks"])


def message_text(message: SlackMessage) -> str:
    """Everything a reader sees: the fallback and every text in the blocks, joined."""
    parts = [message.text]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(parts)


def buttons(message: SlackMessage) -> list[dict[str, Any]]:
    return [
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]
