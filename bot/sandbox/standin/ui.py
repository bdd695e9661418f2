"""The web page's endpoints: the page itself, its state and updates, and what a person does on it.

- `GET /` — the page (`static/index.html`, `app.js`, `app.css`; no build step, nothing from a CDN);
- `GET /ui/state?user=U` — everything the page draws, as seen by user U, with the current `seq`;
- `GET /ui/updates?since=N&user=U&timeout=S` — long-poll: the changes after N (messages, edits, deletions,
  U's ephemerals and modals), answered as soon as there is one, or empty after S seconds;
- `POST /ui/command`, `/ui/click`, `/ui/view_action`, `/ui/submit`, `/ui/close_view` — the person typed in
  the composer, clicked a button, acted in or submitted or closed a modal; sent to the bot as signed
  Slack requests by the sender.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.standin.api_requests import json_object
from bot.sandbox.standin.home import click_in_home, open_home
from bot.sandbox.standin.models import JSON, OpenView, StoredEphemeral, StoredMessage
from bot.sandbox.standin.payloads import MissingRequiredInput
from bot.sandbox.standin.sender import SentRequest

if TYPE_CHECKING:
    from bot.sandbox.standin.server import SlackStandIn

DEFAULT_USER = "U_SANDBOX"
MAX_POLL_SECONDS = 30.0
_STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def static_text(name: str) -> str:
    return resources.files("bot.sandbox.standin").joinpath("static", name).read_text(encoding="utf-8")


def add_routes(app: web.Application, standin: SlackStandIn) -> None:
    handlers = _UiHandlers(standin)
    app.router.add_get("/", handlers.index)
    app.router.add_get("/static/{name}", handlers.static)
    app.router.add_get("/ui/state", handlers.state)
    app.router.add_get("/ui/updates", handlers.updates)
    app.router.add_post("/ui/command", handlers.command)
    app.router.add_post("/ui/click", handlers.click)
    app.router.add_post("/ui/view_action", handlers.view_action)
    app.router.add_post("/ui/submit", handlers.submit)
    app.router.add_post("/ui/close_view", handlers.close_view)
    app.router.add_post("/ui/home", handlers.home)
    app.router.add_post("/ui/home_action", handlers.home_action)


def _values(body: JSON) -> dict[str, Any]:
    raw = body.get("values")
    return raw if isinstance(raw, dict) else {}


def _sent_json(sent: SentRequest | None) -> JSON:
    if sent is None:
        return {"status": None}
    return {
        "status": sent.status,
        "error": sent.error,
        "body": sent.body if isinstance(sent.body, dict) else None,
    }


class _UiHandlers:
    def __init__(self, standin: SlackStandIn) -> None:
        self.standin = standin
        self.workspace = standin.workspace

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(text=static_text("index.html"), content_type="text/html", charset="utf-8")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or ".." in name or suffix not in _STATIC_TYPES:
            raise web.HTTPNotFound()
        try:
            text = static_text(name)
        except FileNotFoundError:
            raise web.HTTPNotFound() from None
        return web.Response(text=text, content_type=_STATIC_TYPES[suffix], charset="utf-8")

    async def state(self, request: web.Request) -> web.Response:
        user = request.query.get("user") or DEFAULT_USER
        self.workspace.ensure_user(user)
        snapshot = self.workspace.snapshot(user)
        snapshot.update(
            {"me": user, "command": self.standin.command, "bot_connected": self.standin.bot_url is not None}
        )
        return web.json_response(snapshot)

    async def updates(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
            timeout = min(float(request.query.get("timeout", "25")), MAX_POLL_SECONDS)
        except ValueError:
            raise web.HTTPBadRequest(text="since and timeout must be numbers") from None
        user = request.query.get("user")
        entries, reset = await self.workspace.updates.wait(since, 0 if self.standin.stopping else timeout)
        visible = [
            entry.to_json()
            for entry in entries
            if user is None
            or entry.kind not in ("ephemeral", "view", "home")
            or entry.data.get("user") == user
        ]
        return web.json_response({"seq": self.workspace.updates.seq, "reset": reset, "updates": visible})

    def _require_bot(self, channel: str, user: str) -> bool:
        if self.standin.bot_url is not None:
            return True
        self.workspace.post_ephemeral(
            channel, user, text="No app is connected to this stand-in yet.", blocks=[], source="slack"
        )
        return False

    async def command(self, request: web.Request) -> web.Response:
        """The composer: `/command text` goes to the bot; anything else is posted as the person's message."""
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        channel = str(body.get("channel") or "C_ML")
        text = str(body.get("text") or "").strip()
        if not text:
            raise web.HTTPBadRequest(text="nothing to send")
        if not text.startswith("/"):
            self.workspace.post_message(channel, text=text, blocks=[], user=user, bot=False)
            return web.json_response({"status": None})
        name, _, rest = text.partition(" ")
        if name != self.standin.command:
            self.workspace.post_ephemeral(
                channel,
                user,
                text=f"`{name}` is not a valid command. In Slack, all messages that start with the "
                "\u201c/\u201d character are interpreted as commands.",
                blocks=[],
                source="slack",
            )
            return web.json_response({"status": None})
        if not self._require_bot(channel, user):
            return web.json_response({"status": None, "error": "no_bot"})
        sent = await self.standin.sender.slash(rest.strip(), user=user, channel=channel)
        return web.json_response(_sent_json(sent))

    async def click(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        channel = str(body.get("channel") or "")
        ts = str(body.get("ts") or "")
        message: StoredMessage | StoredEphemeral | None = (
            self.workspace.find_ephemeral(ts)
            if body.get("ephemeral")
            else self.workspace.find_message(channel, ts)
        )
        if message is None:
            raise web.HTTPNotFound(text="that message is gone")
        if not self._require_bot(message.channel, user):
            return web.json_response({"status": None, "error": "no_bot"})
        value = body.get("value")
        try:
            sent = await self.standin.sender.click(
                message,
                str(body.get("action_id") or ""),
                user=user,
                value=str(value) if value is not None else None,
                block_id=str(body["block_id"]) if body.get("block_id") else None,
            )
        except (LookupError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return web.json_response(_sent_json(sent))

    def _view(self, body: JSON, user: str) -> OpenView:
        view = self.workspace.modals.find_view(view_id=str(body.get("view_id") or ""))
        if view is None or view.user != user:
            raise web.HTTPNotFound(text="that modal is closed")
        return view

    async def view_action(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        view = self._view(body, user)
        value = body.get("value")
        values = _values(body)
        try:
            sent = await self.standin.sender.click_in_view(
                view,
                str(body.get("action_id") or ""),
                user=user,
                value=str(value) if value is not None else None,
                block_id=str(body["block_id"]) if body.get("block_id") else None,
                values=values,
            )
        except (LookupError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return web.json_response(_sent_json(sent))

    async def submit(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        view = self._view(body, user)
        values = _values(body)
        try:
            sent = await self.standin.sender.submit_view(view, values, user=user)
        except MissingRequiredInput as missing:
            # Slack checks required inputs in the client and never bothers the app.
            self.workspace.modals.set_view_errors(
                view, dict.fromkeys(missing.block_ids, "Please complete this required field.")
            )
            return web.json_response({"status": None, "error": "missing_required"})
        except (LookupError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return web.json_response(_sent_json(sent))

    async def close_view(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        view = self._view(body, user)
        sent = await self.standin.sender.close_view(view, user=user)
        return web.json_response(_sent_json(sent))

    async def home(self, request: web.Request) -> web.Response:
        """The person opens the app's Home tab: the app is told (`app_home_opened`)."""
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        if self.standin.bot_url is None:
            return web.json_response({"status": None, "error": "no_bot"})
        return web.json_response(_sent_json(await open_home(self.standin, user)))

    async def home_action(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        user = str(body.get("user") or DEFAULT_USER)
        value = body.get("value")
        try:
            sent = await click_in_home(
                self.standin,
                str(body.get("action_id") or ""),
                user=user,
                block_id=str(body["block_id"]) if body.get("block_id") else None,
                value=str(value) if value is not None else None,
            )
        except (LookupError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return web.json_response(_sent_json(sent))
