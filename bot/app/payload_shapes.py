"""The shapes of what Slack sends, checked before Bolt reads a signed body.

Bolt indexes into payloads as Slack shapes them (`actions[0]`, `view["callback_id"]`, `event["type"]`) and
raises on anything else. A body with a valid signature can still be odd (our own tests, a replayed capture,
a future Slack field): here it gets a 400 instead of a traceback. Only what Bolt and our listeners read is
checked; every other field may be anything.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

EVENTS_API_TYPES = frozenset({"event_callback", "url_verification", "app_rate_limited"})


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
    id: str | None = None
    type: str | None = None
    callback_id: str | None = None
    private_metadata: str | None = None
    app_installed_team_id: str | None = None
    state: _ViewState | None = None


class _Message(_Open):
    ts: str | None = None


class _Container(_Open):
    type: str | None = None
    message_ts: str | None = None
    channel_id: str | None = None


class _AnyEvent(_Open):
    type: str | None = None
    bot_id: str | None = None


class InteractivePayload(_Open):
    """`payload=` of a button click, a form submission, a shortcut."""

    type: str
    team: _Id | None = None
    enterprise: _Id | None = None
    user: _User | None = None
    channel: _Id | None = None
    container: _Container | None = None
    message: _Message | None = None
    view: _View | None = None
    actions: list[_Action] | None = None
    api_app_id: str | None = None
    event: _AnyEvent | None = None  # Bolt looks for one in every body
    response_url: str | None = None
    trigger_id: str | None = None

    def model_post_init(self, context: Any, /) -> None:
        self._no_explicit_null("user", "container", "view", "actions", "event")
        if self.type == "block_actions" and not self.actions:
            raise ValueError("block_actions without actions")
        if self.type in ("view_submission", "view_closed") and (
            self.view is None or self.view.callback_id is None or self.view.type is None
        ):
            raise ValueError(f"{self.type} without a view type and callback_id")


class _Event(_Open):
    type: str
    user: str | None = None
    channel: str | None = None


class _Authorization(_Open):
    team_id: str | None = None
    user_id: str | None = None


class EventsPayload(_Open):
    """A JSON body of the Events API (event callbacks, url_verification)."""

    type: str
    team_id: str | None = None
    api_app_id: str | None = None
    event_id: str | None = None
    challenge: str | None = None
    event: _Event | None = None
    authorizations: list[_Authorization] | None = None

    def model_post_init(self, context: Any, /) -> None:
        self._no_explicit_null("event", "authorizations")
        if self.type == "event_callback" and self.event is None:
            raise ValueError("event_callback without an event")
        if self.type == "url_verification" and self.challenge is None:
            raise ValueError("url_verification without a challenge")


def fits(model: type[_Open], value: Any) -> bool:
    try:
        model.model_validate(value)
    except (ValidationError, ValueError):
        return False
    return True
