"""Each person's Home tab of the app, as the stand-in keeps it (the methods and clicks are in `home.py`).

Who is in which channel matters to the Home tab (a person sees the active jobs of their channels):
everyone is in every channel unless a test or the page says otherwise (`set_members`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.sandbox.standin.models import JSON

if TYPE_CHECKING:
    from bot.sandbox.standin.modals import Modals
    from bot.sandbox.standin.updates import UpdateLog


@dataclass
class HomeTabs:
    modals: Modals
    updates: UpdateLog
    views: dict[str, JSON] = field(default_factory=dict)  # user -> their published Home view
    publishes: dict[str, int] = field(default_factory=dict)  # user -> how many times it was published
    members: dict[str, set[str]] = field(default_factory=dict)  # channel -> its members, when set

    def view(self, user: str) -> JSON | None:
        return self.views.get(user)

    def publish(self, user: str, view: JSON) -> JSON:
        current = self.views.get(user)
        full = self.modals.build_view(view, view_id=str(current["id"]) if current else None)
        self.views[user] = full
        self.publishes[user] = self.publishes.get(user, 0) + 1
        self.updates.add("home", {"user": user, "view": copy.deepcopy(full)})
        return full

    def set_members(self, channel: str, users: list[str] | None) -> None:
        """Only `users` are in `channel` from now on (None: everyone again)."""
        if users is None:
            self.members.pop(channel, None)
        else:
            self.members[channel] = set(users)

    def is_member(self, channel: str, user: str) -> bool:
        members = self.members.get(channel)
        return members is None or user in members
