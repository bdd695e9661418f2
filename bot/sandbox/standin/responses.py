"""What Slack does with a message sent to a response_url (or in a slash command's acknowledgement).

- `delete_original: true` deletes the message the interaction came from;
- `replace_original: true` edits it in place (a channel message for everyone, an ephemeral for its owner);
- otherwise a new message: `response_type: "in_channel"` posts it in the channel (as the app), anything else
  is an ephemeral message only the person who acted sees.

A response_url works up to 5 times within 30 minutes; after that it answers 404 like an expired hook.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from bot.sandbox.standin.api_args import ApiError, arg_bool, arg_str, parse_message_content
from bot.sandbox.standin.faults import Faults
from bot.sandbox.standin.models import JSON, ResponsePost
from bot.sandbox.standin.workspace import (
    RESPONSE_URL_LIFETIME,
    RESPONSE_URL_MAX_USES,
    ResponseTarget,
    Workspace,
)


@dataclass
class ResponseOutcome:
    status: int
    body: JSON


def apply_response(
    workspace: Workspace, target: ResponseTarget, body: JSON, *, source: Literal["response_url", "ack"]
) -> None:
    """Carry out one response message; raises `ApiError` when Slack would refuse it."""
    if arg_bool(body, "delete_original"):
        _delete_original(workspace, target)
        return
    content = parse_message_content(body)
    assert content is not None  # required=True
    if arg_bool(body, "replace_original") and _replace_original(
        workspace, target, content.text, content.blocks
    ):
        return
    thread_ts = arg_str(body, "thread_ts") or target.thread_ts
    if body.get("response_type") == "in_channel":
        workspace.post_message(
            target.channel,
            text=content.text,
            blocks=content.blocks,
            user=workspace.bot_user_id,
            bot=True,
            thread_ts=thread_ts if thread_ts and workspace.thread_parent(target.channel, thread_ts) else None,
        )
    else:
        workspace.post_ephemeral(
            target.channel,
            target.user,
            text=content.text,
            blocks=content.blocks,
            source=source,
            thread_ts=thread_ts,
        )


def _delete_original(workspace: Workspace, target: ResponseTarget) -> None:
    if target.ephemeral_id is not None:
        ephemeral = workspace.find_ephemeral(target.ephemeral_id)
        if ephemeral is not None:
            workspace.delete_ephemeral(ephemeral)
    elif target.message_ts is not None:
        message = workspace.find_message(target.channel, target.message_ts)
        if message is not None:
            workspace.delete_message(message)


def _replace_original(workspace: Workspace, target: ResponseTarget, text: str, blocks: list[JSON]) -> bool:
    """Edit the source message; False when the interaction had none (a slash command)."""
    if target.ephemeral_id is not None:
        ephemeral = workspace.find_ephemeral(target.ephemeral_id)
        if ephemeral is not None:
            workspace.edit_ephemeral(ephemeral, text=text, blocks=blocks)
            return True
    elif target.message_ts is not None:
        message = workspace.find_message(target.channel, target.message_ts)
        if message is not None:
            workspace.edit_message(message, text=text, blocks=blocks, metadata=None)
            return True
    return False


def receive_response(
    workspace: Workspace,
    response_url_id: str,
    body: JSON,
    *,
    source: Literal["response_url", "ack"] = "response_url",
) -> tuple[ResponseOutcome, ResponsePost]:
    """Handle one post to a response_url id: check the hook is still usable, apply it, record it."""
    now = workspace.clock()
    target = workspace.response_target(response_url_id)
    if target is None:
        outcome = ResponseOutcome(404, {"ok": False, "error": "no_active_hooks"})
    elif now - target.created > RESPONSE_URL_LIFETIME:
        outcome = ResponseOutcome(404, {"ok": False, "error": "expired_url"})
    elif target.uses >= RESPONSE_URL_MAX_USES:
        outcome = ResponseOutcome(404, {"ok": False, "error": "used_url"})
    else:
        if source == "response_url":
            target.uses += 1
        try:
            apply_response(workspace, target, body, source=source)
            outcome = ResponseOutcome(200, {"ok": True})
        except ApiError as error:
            outcome = ResponseOutcome(400 if source == "response_url" else 200, error.body())
    post = ResponsePost(
        response_url_id=response_url_id,
        body=body,
        at=now,
        status=outcome.status,
        source=source,
        error=None if outcome.body.get("ok") else str(outcome.body.get("error")),
    )
    return outcome, post


async def answer_response_post(
    request: web.Request, workspace: Workspace, faults: Faults
) -> tuple[web.Response, ResponsePost]:
    """The HTTP side of a post to a response_url: its JSON body read, the fault knobs for "response_url"
    (latency, failures) applied, then `receive_response`; the answer and the record of the post."""
    response_url_id = request.match_info["id"]
    try:
        raw = await request.json()
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        post = ResponsePost(response_url_id, {}, time.time(), 400, error="invalid_payload")
        return web.json_response({"ok": False, "error": "invalid_payload"}, status=400), post
    delay = faults.latency_for("response_url")
    if delay > 0:
        await asyncio.sleep(delay)
    rule = faults.take_failure("response_url")
    if rule is not None:
        post = ResponsePost(response_url_id, raw, time.time(), rule.status, error=str(rule.body()["error"]))
        return web.json_response(rule.body(), status=rule.status, headers=rule.headers()), post
    outcome, post = receive_response(workspace, response_url_id, raw)
    return web.json_response(outcome.body, status=outcome.status), post
