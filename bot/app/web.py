"""The HTTP face of the bot: `POST /slack/events` on an aiohttp Application that others can extend.

Routes must be added before the application starts serving (aiohttp freezes the router then); the runtime
calls its web extensions (e.g. `/healthz`, `/metrics`) between `build_web_app` and starting the server.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.app.request_gate import RequestGate

SLACK_EVENTS_PATH = "/slack/events"
BOLT_APP: web.AppKey[AsyncApp] = web.AppKey("bolt_app", AsyncApp)
GATE: web.AppKey[RequestGate] = web.AppKey("request_gate", RequestGate)

log = logging.getLogger(__name__)


def build_web_app(bolt_app: AsyncApp, *, gate: RequestGate | None) -> web.Application:
    """An Application serving Bolt at `/slack/events` behind `gate`; without a gate (Socket Mode without a
    signing secret) the path is not served at all."""
    app = web.Application()
    app[BOLT_APP] = bolt_app
    if gate is not None:
        app[GATE] = gate
        app.router.add_post(SLACK_EVENTS_PATH, handle_slack_request)
    return app


async def handle_slack_request(request: web.Request) -> web.Response:
    """Slash commands, interactivity and events: the gate verifies the request, then Bolt dispatches."""
    body = await request.read()
    verdict = request.app[GATE].check(body, request.headers)
    if not verdict.passes:
        log.warning("refused a request to %s: %s", SLACK_EVENTS_PATH, verdict.reason)
        if verdict.status == 200:
            return web.Response(status=200)
        return web.json_response({"error": "invalid request"}, status=verdict.status or 400)
    try:
        bolt_request = await to_bolt_request(request)
    except ValueError:
        # The body is parsed before the signature can be checked: a body Slack would never send (say a
        # `payload` that is not JSON) is refused here in one log line, not a traceback and a 500.
        log.warning("refused a request to %s whose body is not a Slack payload", SLACK_EVENTS_PATH)
        return web.json_response({"error": "invalid request"}, status=400)
    bolt_response = await request.app[BOLT_APP].async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)
