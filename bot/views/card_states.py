"""A card as a given person or channel may use it: frozen when its channel stops following the job, and
without the buttons the person looking at it could only be refused.

Both start from the one card drawn by `bot.views.card` and take things away, so the card itself has a
single drawing.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.jobs.actions import Action
from bot.views.actions import button_action_id
from bot.views.format import slack_date
from bot.views.message import SlackMessage, fit

LIVE_LINE_PREFIX = "Estimated finish"  # a promise about the future a frozen card cannot keep


def frozen_card(card: SlackMessage, *, job_id: str, at: float, by: str | None, command: str) -> SlackMessage:
    """The card as left in a channel that stopped following the job: no buttons, no estimate, and a line
    saying since when it no longer changes and how to see where the job stands."""
    blocks = [block for block in copy.deepcopy(card.blocks) if block.get("type") != "actions"]
    for block in blocks:
        text = block.get("text")
        if block.get("type") == "section" and isinstance(text, dict) and isinstance(text.get("text"), str):
            lines = text["text"].split("\n")
            text["text"] = "\n".join(line for line in lines if not line.startswith(LIVE_LINE_PREFIX))
    who = f" (<@{by}> stopped following it here)" if by else ""
    note = (
        f"⏹️ This channel stopped following the job {slack_date(at)}{who}: this card no longer changes and "
        f"nobody here is told what happens next. `{command} status {job_id}` shows where it stands; "
        f"`{command} watch {job_id}` follows it again."
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict())
    return fit(card.text, blocks)


def without_buttons(card: SlackMessage, refused: Collection[Action]) -> SlackMessage:
    """The card without the buttons for `refused` actions (an actions block left empty goes too)."""
    if not refused:
        return card
    hidden = {button_action_id(action) for action in refused}
    blocks: list[dict[str, Any]] = []
    for block in copy.deepcopy(card.blocks):
        if block.get("type") == "actions":
            block["elements"] = [e for e in block.get("elements") or [] if e.get("action_id") not in hidden]
            if not block["elements"]:
                continue
        blocks.append(block)
    return fit(card.text, blocks)
