"""`/_standin/...`: the fault knobs and records over HTTP, for a stand-in running in another process
(the sandbox, a benchmark). Each endpoint mirrors a `SlackStandIn` method (listed above `add_routes`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from aiohttp import web

from bot.sandbox.standin.api_requests import json_object
from bot.sandbox.standin.models import JSON, RecordedCall

if TYPE_CHECKING:
    from bot.sandbox.standin.server import SlackStandIn


def _call_json(call: RecordedCall) -> JSON:
    return {
        "method": call.method,
        "args": call.args,
        "at": call.at,
        "status": call.status,
        "ok": call.ok,
        "error": call.error,
        "duration": call.duration,
    }


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _guarded(handler: Handler) -> Handler:
    """A missing or malformed field is the caller's mistake: answer 400 saying which, not 500."""

    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except KeyError as error:
            return web.json_response({"ok": False, "error": f"missing field {error}"}, status=400)
        except (TypeError, ValueError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)

    return guarded


# The endpoints:
# GET  /_standin/calls[?method=chat.postMessage]   recorded Web API calls
# GET  /_standin/responses                         response_url posts
# GET  /_standin/messages?channel=C_ML             top-level messages of a channel
# GET  /_standin/pacing                            pacing violations
# POST /_standin/channel_state   {"channel": "C_ML", "state": "archived"}
# POST /_standin/fail_next       {"n": 2, "status": 429, "retry_after": 1, "method": "chat.postMessage"}
# POST /_standin/latency         {"ms": 200, "method": null}
# POST /_standin/pacing          {"rate": 1.0, "burst": 3, "enforce": false}
# POST /_standin/trigger_ttl     {"seconds": null}
# POST /_standin/bot_url         {"url": "http://127.0.0.1:3000/slack/events"}
# POST /_standin/users           {"id": "U_ADMIN", "name": "admin", "real_name": "An Admin"}
# POST /_standin/channels        {"id": "C_OPS", "name": "ops"}
# POST /_standin/reset           forget recorded calls, responses, violations; clear faults
def add_routes(app: web.Application, standin: SlackStandIn) -> None:
    def done() -> web.Response:
        return web.json_response({"ok": True})

    def bad(error: Exception) -> web.Response:
        return web.json_response({"ok": False, "error": str(error)}, status=400)

    async def calls(request: web.Request) -> web.Response:
        method = request.query.get("method")
        chosen = standin.calls_to(method) if method else standin.calls
        return web.json_response({"calls": [_call_json(c) for c in chosen]})

    async def responses(request: web.Request) -> web.Response:
        return web.json_response({"responses": [asdict(r) for r in standin.responses]})

    async def messages(request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        found = [standin.workspace.message_json(m) for m in standin.messages(channel)]
        return web.json_response({"messages": found})

    async def pacing(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response({"violations": [asdict(v) for v in standin.pacing_violations]})
        body = await json_object(request)
        try:
            standin.set_pacing(
                rate=float(body.get("rate", 1.0)),
                burst=int(body.get("burst", 3)),
                enforce=bool(body.get("enforce")),
            )
        except (TypeError, ValueError) as error:
            return bad(error)
        return done()

    async def channel_state(request: web.Request) -> web.Response:
        body = await json_object(request)
        try:
            standin.set_channel_state(str(body["channel"]), body["state"])
        except (KeyError, ValueError) as error:
            return bad(error)
        return done()

    async def fail_next(request: web.Request) -> web.Response:
        body = await json_object(request)
        try:
            standin.fail_next(
                int(body.get("n", 1)),
                status=int(body.get("status", 429)),
                retry_after=int(body.get("retry_after", 1)),
                method=str(body["method"]) if body.get("method") else None,
            )
        except (TypeError, ValueError) as error:
            return bad(error)
        return done()

    async def latency(request: web.Request) -> web.Response:
        body = await json_object(request)
        try:
            standin.set_latency(
                float(body.get("ms", 0)), method=str(body["method"]) if body.get("method") else None
            )
        except (TypeError, ValueError) as error:
            return bad(error)
        return done()

    async def trigger_ttl(request: web.Request) -> web.Response:
        body = await json_object(request)
        seconds = body.get("seconds")
        standin.trigger_ttl = None if seconds is None else float(seconds)
        return done()

    async def bot_url(request: web.Request) -> web.Response:
        body = await json_object(request)
        standin.set_bot_url(str(body["url"]))
        return done()

    async def users(request: web.Request) -> web.Response:
        body = await json_object(request)
        standin.add_user(
            str(body["id"]), str(body["name"]), body.get("real_name"), is_admin=bool(body.get("is_admin"))
        )
        return done()

    async def channels(request: web.Request) -> web.Response:
        body = await json_object(request)
        standin.add_channel(str(body["id"]), str(body["name"]), is_private=bool(body.get("is_private")))
        return done()

    async def reset(request: web.Request) -> web.Response:
        standin.reset_records()
        standin.faults.clear()
        return done()

    app.router.add_get("/_standin/calls", _guarded(calls))
    app.router.add_get("/_standin/responses", _guarded(responses))
    app.router.add_get("/_standin/messages", _guarded(messages))
    app.router.add_get("/_standin/pacing", _guarded(pacing))
    app.router.add_post("/_standin/pacing", _guarded(pacing))
    app.router.add_post("/_standin/channel_state", _guarded(channel_state))
    app.router.add_post("/_standin/fail_next", _guarded(fail_next))
    app.router.add_post("/_standin/latency", _guarded(latency))
    app.router.add_post("/_standin/trigger_ttl", _guarded(trigger_ttl))
    app.router.add_post("/_standin/bot_url", _guarded(bot_url))
    app.router.add_post("/_standin/users", _guarded(users))
    app.router.add_post("/_standin/channels", _guarded(channels))
    app.router.add_post("/_standin/reset", _guarded(reset))
