"""The app's Home tab in the stand-in: `views.publish`, `users.conversations`, and what a person does there.

Each person has at most one Home view of the app; `views.publish` replaces it (Slack's rules: a `home`
view, 100 blocks, a `hash` that must match when given). Who is in which channel matters to the Home tab
(a person sees the active jobs of their channels): everyone is in every channel unless the test or the
page says otherwise (`set_members`). `open_home` plays a person opening the tab (`app_home_opened`),
`click_in_home` a button pressed in it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.sandbox.standin.api_args import ApiError, arg_int, arg_json, arg_str
from bot.sandbox.standin.limits import BlockProblem, view_problems
from bot.sandbox.standin.models import JSON
from bot.sandbox.standin.payloads import VERIFICATION_TOKEN, action_json, find_element, team_json, user_json

if TYPE_CHECKING:
    from bot.sandbox.standin.sender import SentRequest
    from bot.sandbox.standin.server import SlackStandIn
    from bot.sandbox.standin.workspace import Workspace


def home_methods(workspace: Workspace) -> dict[str, Callable[[JSON], JSON]]:
    """The Web API methods of the Home tab, for `WebApi.methods`."""

    def views_publish(args: JSON) -> JSON:
        user = arg_str(args, "user_id")
        if user is None or user not in workspace.users:
            raise ApiError("user_not_found")
        view = arg_json(args, "view")
        problems = view_problems(view)
        if not problems and isinstance(view, dict) and view.get("type") != "home":
            problems = [BlockProblem("views.publish takes a home view", "/view/type")]
        if problems:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
            )
        assert isinstance(view, dict)
        expected = arg_str(args, "hash")
        current = workspace.home.view(user)
        if expected is not None and current is not None and expected != current.get("hash"):
            raise ApiError("hash_conflict")
        return {"ok": True, "view": workspace.home.publish(user, view)}

    def users_conversations(args: JSON) -> JSON:
        user = arg_str(args, "user")
        if user is not None and user not in workspace.users:
            raise ApiError("user_not_found")
        types = set((arg_str(args, "types") or "public_channel").split(","))
        found = []
        for channel in workspace.channels.values():
            if channel.id.startswith("D") or channel.state == "not_found":
                continue
            if ("private_channel" if channel.is_private else "public_channel") not in types:
                continue
            if channel.is_private and channel.state in ("not_in_channel", "public_not_member"):
                continue  # a private channel the bot is not in is invisible to it
            if user is not None and not workspace.home.is_member(channel.id, user):
                continue
            found.append(channel.to_slack())
        limit = max(1, min(arg_int(args, "limit", 100), 1000))
        start = int((arg_str(args, "cursor") or "0").removeprefix("offset:") or 0)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "channels": page,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
        }

    return {"views.publish": views_publish, "users.conversations": users_conversations}


async def open_home(standin: SlackStandIn, user: str = "U_ALICE") -> SentRequest:
    """`user` opens the app's Home tab: Slack sends `app_home_opened` (with the view, once there is one)."""
    from bot.sandbox.standin.events import send_event

    event: JSON = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    view = standin.workspace.home.view(user)
    if view is not None:
        event["view"] = copy.deepcopy(view)
    return await send_event(standin, event)


async def click_in_home(
    standin: SlackStandIn,
    action_id: str,
    *,
    user: str = "U_ALICE",
    block_id: str | None = None,
    value: str | None = None,
) -> SentRequest:
    """Press a button on `user`'s Home tab: `block_actions` with a view container and no channel."""
    ws = standin.workspace
    view = ws.home.view(user)
    if view is None:
        raise LookupError(f"{user} has no Home tab published")
    found = find_element(list(view.get("blocks") or []), action_id, block_id)
    payload: JSON = {
        "type": "block_actions",
        "user": user_json(ws, user),
        "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": ws.issue_trigger(user),
        "team": team_json(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": copy.deepcopy(view),
        "actions": [action_json(found, value, f"{time.time():.6f}")],
    }
    return await standin.sender.send_interactive(payload)
