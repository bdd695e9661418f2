"""Reading a Web API request as Slack does: its arguments (query string, form or JSON body, merged) and its
token (the `Authorization` header or a `token` argument), and whether that token may call the method.

Only the stand-in's own tokens are accepted; an app-level token is only good for `apps.connections.open`,
and only it is.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.sandbox.standin.models import JSON

# Methods called with the app-level token rather than the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def needs_app_token(method: str) -> bool:
    return method in APP_TOKEN_METHODS


def token_refusal(method: str, token: str | None, *, bot_token: str, app_token: str) -> str | None:
    """Slack's error for this token calling `method`; None when it may."""
    if token is None:
        return "not_authed"
    wants_app_token = needs_app_token(method)
    if token.startswith("xapp-") != wants_app_token:
        return "not_allowed_token_type"
    expected = app_token if wants_app_token else bot_token
    return None if token == expected else "invalid_auth"


def request_token(request: web.Request, args: JSON) -> str | None:
    """The request's token: the bearer header's, else the `token` argument (removed from `args` either
    way, so that it is never recorded)."""
    form_token = args.pop("token", None)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    return str(form_token) if form_token else None


async def request_args(request: web.Request) -> JSON:
    """Query string, form body and JSON body merged (slack_sdk uses each, depending on the method)."""
    args: JSON = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        try:
            body: Any = await request.json()
        except json.JSONDecodeError:
            raise ValueError("invalid_json") from None
        if not isinstance(body, dict):
            raise ValueError("invalid_json")
        args.update(body)
    else:
        form = await request.post()
        args.update({key: value for key, value in form.items() if isinstance(value, str)})
    return args


async def json_object(request: web.Request) -> JSON:
    """The body of a control or page request: a JSON object, or a 400."""
    try:
        body: Any = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body
