"""Reading a Web API call's arguments as Slack does, and the error answer when they are wrong.

Form bodies carry JSON as strings and booleans as "1" or "true"; JSON bodies carry them as they are. A
message's text and blocks are checked against Slack's limits here, so every method that takes a message
refuses it the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.sandbox.standin.limits import (
    MAX_MESSAGE_TEXT,
    MAX_TOTAL_BLOCK_TEXT,
    message_blocks_problems,
    total_block_text,
)
from bot.sandbox.standin.models import JSON


class ApiError(Exception):
    """A Slack error answer: `{"ok": false, "error": code, **extra}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> JSON:
        return {"ok": False, "error": self.code, **self.extra}


def arg_str(args: JSON, key: str) -> str | None:
    value = args.get(key)
    if value is None or value == "":
        return None
    return str(value)


def arg_bool(args: JSON, key: str) -> bool:
    value = args.get(key)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def arg_int(args: JSON, key: str, default: int) -> int:
    value = args.get(key)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise ApiError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] {key} must be a number"]}
        ) from None


def arg_json(args: JSON, key: str) -> Any:
    value = args.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(
                f"invalid_{key}", response_metadata={"messages": [f"[ERROR] {key} is not valid JSON"]}
            ) from None
    return value


def _invalid_blocks(problems: list[str]) -> ApiError:
    return ApiError(
        "invalid_blocks", errors=problems, response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
    )


@dataclass
class MessageContent:
    text: str
    blocks: list[JSON]
    warnings: list[str]


def parse_message_content(args: JSON, *, required: bool = True) -> MessageContent | None:
    """`text` and `blocks` of a message, checked against Slack's limits; None when neither was sent and
    `required` is False."""
    text = args.get("text")
    blocks = arg_json(args, "blocks")
    attachments = arg_json(args, "attachments")
    if blocks is not None and not isinstance(blocks, list):
        raise _invalid_blocks(["must be an array [json-pointer:/blocks]"])
    if text in (None, "") and not blocks and not attachments:
        if required:
            raise ApiError("no_text")
        return None
    if blocks:
        problems = message_blocks_problems(blocks)
        if problems:
            raise _invalid_blocks([str(p) for p in problems])
        if total_block_text(blocks) > MAX_TOTAL_BLOCK_TEXT:
            raise ApiError("msg_blocks_too_long")
    warnings: list[str] = []
    text_str = "" if text is None else str(text)
    if len(text_str) > MAX_MESSAGE_TEXT:
        text_str = text_str[:MAX_MESSAGE_TEXT]
        warnings.append("message_truncated")
    return MessageContent(text_str, list(blocks or []), warnings)


def parse_metadata(args: JSON) -> JSON | None:
    metadata = arg_json(args, "metadata")
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}
