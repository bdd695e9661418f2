"""The modals people have open: one stack of views per person, as views.open/push/update and submissions
leave them. Every change is told to the page through the workspace's update log."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox.standin.block_ids import fill_block_ids, random_id
from bot.sandbox.standin.models import JSON, OpenView
from bot.sandbox.standin.updates import UpdateLog

MAX_VIEW_STACK = 3  # views.push beyond this answers push_limit_reached


@dataclass
class Modals:
    team_id: str
    app_id: str
    bot_id: str
    updates: UpdateLog
    clock: Callable[[], float] = time.time
    _stacks: dict[str, list[OpenView]] = field(default_factory=dict)

    def view_stack(self, user: str) -> list[OpenView]:
        return list(self._stacks.get(user, []))

    def open_view(self, user: str) -> OpenView | None:
        stack = self._stacks.get(user)
        return stack[-1] if stack else None

    def find_view(self, *, view_id: str | None = None, external_id: str | None = None) -> OpenView | None:
        for stack in self._stacks.values():
            for view in stack:
                if view_id is not None and view.id == view_id:
                    return view
                if external_id is not None and view.view.get("external_id") == external_id:
                    return view
        return None

    def build_view(self, view: JSON, *, view_id: str | None = None, root: OpenView | None = None) -> JSON:
        """Slack's full view object for a view the bot sent (ids, hash, empty state filled in)."""
        full = copy.deepcopy(view)
        full["id"] = view_id or random_id("V")
        full["team_id"] = self.team_id
        full["app_id"] = self.app_id
        full["bot_id"] = self.bot_id
        full["blocks"] = fill_block_ids(list(view.get("blocks") or []))
        full.setdefault("private_metadata", "")
        full.setdefault("callback_id", "")
        full["state"] = {"values": {}}
        full["hash"] = f"{int(self.clock())}.{secrets.token_hex(4)}"
        full["root_view_id"] = root.id if root else full["id"]
        full["previous_view_id"] = None
        full.setdefault("clear_on_close", False)
        full.setdefault("notify_on_close", False)
        return full

    def push_view(self, user: str, view: JSON) -> OpenView | str:
        stack = self._stacks.setdefault(user, [])
        if len(stack) >= MAX_VIEW_STACK:
            return "push_limit_reached"
        full = self.build_view(view, root=stack[0] if stack else None)
        if stack:
            full["previous_view_id"] = stack[-1].id
        opened = OpenView(id=str(full["id"]), user=user, view=full, opened_at=self.clock())
        stack.append(opened)
        self._changed(user)
        return opened

    def replace_view(self, opened: OpenView, view: JSON) -> None:
        root = self._stacks.get(opened.user, [opened])[0]
        full = self.build_view(view, view_id=opened.id, root=root)
        full["previous_view_id"] = opened.view.get("previous_view_id")
        opened.view = full
        opened.errors = {}
        self._changed(opened.user)

    def close_view(self, user: str, *, all_views: bool = False) -> list[OpenView]:
        """Close the top modal (or the whole stack) of `user`; returns the views closed."""
        stack = self._stacks.get(user, [])
        closed = stack[:] if all_views else stack[-1:]
        del stack[len(stack) - len(closed) :]
        self._changed(user)
        return closed

    def set_view_errors(self, opened: OpenView, errors: dict[str, str]) -> None:
        opened.errors = dict(errors)
        self._changed(opened.user)

    def ui_views(self, user: str) -> list[JSON]:
        return [
            {**copy.deepcopy(v.view), "standin_errors": dict(v.errors)} for v in self._stacks.get(user, [])
        ]

    def _changed(self, user: str) -> None:
        self.updates.add("view", {"user": user, "views": self.ui_views(user)})
