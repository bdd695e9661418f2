"""The shapes of what Slack sends, checked before Bolt reads a signed body.

Bolt indexes into payloads as Slack shapes them (`actions[0]`, `view["callback_id"]`, `event["type"]`) and
raises on anything else. A body with a valid signature can still be odd (our own tests, a replayed capture,
a future Slack field): here it gets a 400 instead of a traceback. Only what Bolt and our listeners read is
checked; every other field may be anything.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    def _no_explicit_null(self, *names: str) -> None:
        """Bolt reads these with `in` and `[...]` whenever they are present: null is not an object."""
        for name in names:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} is null")


class _Id(_Open):
    id: str


class _User(_Id):
    team_id: str | None = None


class _Action(_Open):
    action_id: str
    block_id: str | None = None
    value: str | None = None


class _ViewState(_Open):
    values: dict[str, dict[str, dict[str, Any]]] = {}


class _View(_Open):
    type: str | None = None
    callback_id: str | None = None
    state: _ViewState | None = None


class _Message(_Open):
    ts: str | None = None


class _Container(_Open):
    message_ts: str | None = None  # the card a button sits on
    channel_id: str | None = None


class _Event(_Open):
    type: str
    bot_id: str | None = None
    user: str | None = None
    channel: str | None = None


class SlackPayload(_Open):
    """Any body Bolt dispatches: an Events API callback, or an interaction (click, form, shortcut)."""

    type: str
    team: _Id | None = None
    team_id: str | None = None
    enterprise: _Id | None = None
    api_app_id: str | None = None
    user: _User | None = None
    channel: _Id | None = None
    container: _Container | None = None
    message: _Message | None = None
    view: _View | None = None
    actions: list[_Action] | None = None
    event: _Event | None = None
    authorizations: list[dict[str, Any]] | None = None
    challenge: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None

    def model_post_init(self, context: Any, /) -> None:
        self._no_explicit_null("user", "container", "view", "actions", "event", "authorizations")
        problem = {
            "block_actions": not self.actions,
            "view_submission": self.view is None or self.view.callback_id is None or self.view.type is None,
            "event_callback": self.event is None,
            "url_verification": self.challenge is None,
        }.get(self.type, False)
        if problem:
            raise ValueError(f"a {self.type} without what it needs")
        if self.type == "view_closed" and (self.view is None or self.view.callback_id is None):
            raise ValueError("a view_closed without its view")


def fits(model: type[_Open], value: Any) -> bool:
    try:
        model.model_validate(value)
    except (ValidationError, ValueError):
        return False
    return True
