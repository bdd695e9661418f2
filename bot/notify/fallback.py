"""The minimal message sent once in place of one Slack refused for good (`msg_too_long`, bad blocks, …).

Sending the same message again would be refused again, so after a permanent refusal the sender tries this
once: the fallback text, shortened, with no blocks or attachments (and no metadata when the metadata was
what Slack refused). If Slack refuses that too, the message is given up.
"""

from __future__ import annotations

from typing import Any

from bot.notify.slack_failures import SlackFailure
from bot.views.format import truncate
from bot.views.message import SlackMessage

# Far below Slack's own text limits, so that a length Slack counts differently cannot refuse it again.
FALLBACK_TEXT_LIMIT = 1000
_RICH_PARTS = ("blocks", "attachments")


def plain(message: SlackMessage) -> SlackMessage:
    """The message as short plain text without blocks (an edit with it removes the old blocks)."""
    return SlackMessage(text=truncate(message.text, FALLBACK_TEXT_LIMIT) or "…", blocks=[])


def plain_post(kwargs: dict[str, Any], failure: SlackFailure) -> dict[str, Any]:
    """`chat.postMessage` arguments reduced to the fallback: same channel and thread, short text only."""
    reduced = {key: value for key, value in kwargs.items() if key not in _RICH_PARTS}
    reduced["text"] = plain(SlackMessage(text=str(kwargs.get("text") or ""), blocks=[])).text
    if "metadata" in failure.error:
        reduced.pop("metadata", None)
    return reduced
