"""`SlackStandIn`: a local Slack for tests and the sandbox, as one real aiohttp server.

It serves the Web API at `/api/<method>` (only its own tokens accepted), Socket Mode WebSockets at
`/socket/<ticket>`, the response_url sink at `/response/<id>`, a page that looks like a Slack channel at
`/`, and fault knobs at `/_standin/...`; `standin.sender` plays Slack's part towards the bot (signed HTTP,
or Socket Mode envelopes). Every Web API call is recorded in `calls`, and what a person would see
(messages, ephemerals, response_url posts, modals) is kept for tests to look at.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TypeVar

from aiohttp import web

from bot.sandbox.standin.api_args import ApiError
from bot.sandbox.standin.api_requests import needs_app_token, request_args, request_token, token_refusal
from bot.sandbox.standin.faults import Faults, RefusalRule
from bot.sandbox.standin.models import (
    JSON,
    ChannelState,
    OpenView,
    PacingViolation,
    RecordedCall,
    ResponsePost,
    StoredEphemeral,
    StoredMessage,
)
from bot.sandbox.standin.responses import answer_response_post
from bot.sandbox.standin.sender import SlackSender
from bot.sandbox.standin.shared_files import SharedFiles
from bot.sandbox.standin.socket_mode import SocketConnection, SocketModePeer
from bot.sandbox.standin.webapi import RefusedByPacing, WebApi
from bot.sandbox.standin.workspace import Workspace

T = TypeVar("T")
CHANNEL_STATES: tuple[ChannelState, ...] = (
    "ok",
    "archived",
    "not_in_channel",
    "not_found",
    "public_not_member",
)
# What manifest.yml asks for; Slack names a token's scopes in the `x-oauth-scopes` header of each answer.
DEFAULT_BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "files:read",
)


class SlackStandIn:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_token: str = "xoxb-standin",
        app_token: str = "xapp-1-A_STANDIN-1-standin",
        signing_secret: str = "standin-secret",
        command: str = "/finetune",
        team_id: str = "T_STANDIN",
        trigger_ttl: float | None = 3.0,
        max_recorded_calls: int = 100_000,
        socket_mode: bool = False,
        bot_scopes: Iterable[str] | None = DEFAULT_BOT_SCOPES,
    ) -> None:
        """`bot_token` is the only bot token the Web API accepts (any other: `invalid_auth`) and
        `app_token` the only app-level token `apps.connections.open` accepts. `trigger_ttl`: how long a
        trigger_id stays usable for views.open/push (Slack: 3 s); None turns the expiry check off for slow
        machines. `max_recorded_calls` bounds `calls` for a long-running sandbox (the oldest are forgotten
        first). `socket_mode`: the sender delivers requests over the app's Socket Mode connection instead
        of signed HTTP. `bot_scopes`: what the `x-oauth-scopes` header says the bot token may do (None:
        no header)."""
        self.host = host
        self.port = port
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_mode = socket_mode
        self.bot_scopes: tuple[str, ...] | None = None if bot_scopes is None else tuple(bot_scopes)
        self.signing_secret = signing_secret
        self.command = command
        self.team_id = team_id
        self.trigger_ttl = trigger_ttl
        self.max_recorded_calls = max_recorded_calls
        self.workspace = Workspace(team_id=team_id)
        self.faults = Faults()
        self.webapi = WebApi(
            self.workspace, self.faults, base_url=lambda: self.url, trigger_ttl=lambda: self.trigger_ttl
        )
        self.socket = SocketModePeer(app_id=self.workspace.app_id, ws_base=lambda: self.ws_url)
        self.webapi.methods["apps.connections.open"] = self.socket.connections_open
        self.shared_files = SharedFiles(self)
        self.webapi.methods["files.info"] = self.shared_files.files_info
        self.bot_url: str | None = None
        self._calls: list[RecordedCall] = []
        self._responses: list[ResponsePost] = []
        self._sender: SlackSender | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = False

    # ---- lifecycle --------------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        from bot.sandbox.standin import control, shared_files, ui

        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket/{ticket}", self.socket.handle)
        ui.add_routes(app, self)
        control.add_routes(app, self)
        shared_files.add_routes(app, self)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._stopping = False
        self.socket.start()
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def stop(self) -> None:
        self._stopping = True
        self.workspace.updates.wake_all()  # let the page's long-polls return
        if self._sender is not None:
            await self._sender.aclose()
        await self.socket.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- addresses --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The stand-in's base URL (the web page), e.g. `http://127.0.0.1:43123`."""
        if self._runner is None:
            raise RuntimeError("the stand-in is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL for `AsyncWebClient(base_url=...)` / `SLACK_API_URL` (ends with `/api/`)."""
        return self.url + "/api/"

    @property
    def ws_url(self) -> str:
        """The base of the Socket Mode URLs, e.g. `ws://127.0.0.1:43123`."""
        return "ws" + self.url.removeprefix("http")

    def response_url(self, response_url_id: str) -> str:
        return f"{self.url}/response/{response_url_id}"

    def set_bot_url(self, url: str) -> None:
        """Where signed requests go: the bot's `/slack/events`, e.g. `http://127.0.0.1:3000/slack/events`."""
        self.bot_url = url

    @property
    def sender(self) -> SlackSender:
        if self._sender is None:
            self._sender = SlackSender(self, transport="socket" if self.socket_mode else "http")
        return self._sender

    # ---- what was recorded ------------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Every Web API request so far, in arrival order."""
        return self._calls

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self._calls if call.method == method]

    def messages(self, channel: str) -> list[StoredMessage]:
        """Top-level messages of `channel` (and replies broadcast to it), oldest first; live objects."""
        return self.workspace.messages(channel)

    def thread(self, channel: str, ts: str) -> list[StoredMessage]:
        """The replies in the thread of message `ts` (without the parent), oldest first."""
        parent = self.workspace.thread_parent(channel, ts)
        return parent.live_replies() if parent else []

    def message(self, channel: str, ts: str) -> StoredMessage | None:
        return self.workspace.find_message(channel, ts)

    def ephemerals(self, user: str | None = None) -> list[StoredEphemeral]:
        """Messages only one person sees (chat.postEphemeral, ephemeral responses, ack texts, errors)."""
        return self.workspace.ephemerals(user)

    @property
    def responses(self) -> list[ResponsePost]:
        """Every post to a response_url (and every slash-command ack body with content), in order."""
        return self._responses

    def record_response(self, post: ResponsePost) -> None:
        self._responses.append(post)

    def open_view(self, user: str) -> OpenView | None:
        """The modal on top of `user`'s screen, if any."""
        return self.workspace.modals.open_view(user)

    @property
    def pacing_violations(self) -> list[PacingViolation]:
        return self.faults.pacing.violations

    def reset_records(self) -> None:
        """Forget recorded calls, response posts and pacing violations (not messages)."""
        self._calls.clear()
        self._responses.clear()
        self.faults.pacing.violations.clear()

    # ---- directory ----------------------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, real_name: str | None = None, *, is_admin: bool = False
    ) -> None:
        self.workspace.add_user(user_id, name, real_name, is_admin=is_admin)

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> None:
        self.workspace.add_channel(channel_id, name, is_private=is_private)

    # ---- fault knobs ------------------------------------------------------------------------------------

    def set_channel_state(self, channel: str, state: ChannelState) -> None:
        """`archived` → is_archived, `not_in_channel` → not_in_channel, `not_found` → channel_not_found for
        posts (and channel_not_found for reads when not found); `public_not_member` (a public channel the bot
        was not invited to) takes posts and edits but answers not_in_channel to `conversations.history` and
        `conversations.replies`; `ok` restores it."""
        if state not in CHANNEL_STATES:
            raise ValueError(f"state must be one of {CHANNEL_STATES}")
        self.workspace.set_channel_state(channel, state)

    def fail_next(
        self, n: int, *, status: int = 429, retry_after: int = 1, method: str | None = None
    ) -> None:
        """Answer the next `n` Web API calls (only `method`'s if given; "response_url" for the sink) with
        HTTP `status`: 429 carries `Retry-After` and `{"ok": false, "error": "ratelimited"}`."""
        self.faults.fail_next(n, status=status, retry_after=retry_after, method=method)

    def refuse(
        self,
        error: str,
        *,
        method: str = "chat.postMessage",
        channel: str | None = None,
        with_blocks: bool = False,
        times: int | None = None,
    ) -> None:
        """Refuse `method`'s calls (in `channel`; only those with blocks when `with_blocks`) with Slack's
        `error` (`msg_too_long`, `invalid_blocks`, …) and HTTP 200: the next `times`, or all of them until
        `faults.clear()`."""
        self.faults.refusals.append(RefusalRule(error, method, channel, with_blocks, times))

    def set_latency(self, ms: float, *, method: str | None = None) -> None:
        """Wait `ms` milliseconds before answering every call (or only `method`'s)."""
        self.faults.set_latency(ms, method)

    def set_pacing(self, *, rate: float = 1.0, burst: int = 3, enforce: bool = False) -> None:
        """Per-channel pace for chat.postMessage: `burst` at once, `rate` per second after. Faster posts are
        recorded in `pacing_violations`; with `enforce` they are also answered 429 like Slack would."""
        pacing = self.faults.pacing
        pacing.rate, pacing.burst, pacing.enforce = rate, burst, enforce

    # ---- Socket Mode ----------------------------------------------------------------------------------------

    @property
    def socket_connections(self) -> list[SocketConnection]:
        """Every Socket Mode connection the app opened, oldest first (closed ones too)."""
        return self.socket.connections

    def live_socket_connections(self) -> list[SocketConnection]:
        return self.socket.live()

    def drop_socket_connections(self) -> int:
        """Cut every Socket Mode connection without a close frame, as a dead network would."""
        return self.socket.drop()

    async def refresh_socket_connections(
        self, *, reason: str = "refresh_requested", grace: float = 10.0
    ) -> int:
        """Send Slack's `disconnect` message on every live connection; close them after `grace` s."""
        return await self.socket.refresh(reason=reason, grace=grace)

    def refuse_socket_connections(self, error: str | None = "internal_error") -> None:
        """Answer `apps.connections.open` with `error` until called with None."""
        self.socket.refusing = error

    async def wait_for_socket_connections(
        self,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> SocketConnection:
        """Wait until the app has opened `count` connections in all and one is live; returns the newest."""

        def opened() -> SocketConnection | None:
            live = self.socket.live()
            return live[-1] if len(self.socket.connections) >= count and live else None

        return await self.wait_for(opened, timeout)

    # ---- waiting ------------------------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109 (a plain number is what tests want to pass)
        *,
        interval: float = 0.02,
    ) -> T:
        """Poll `predicate` every 20 ms until it returns something truthy, and return that; raises
        `TimeoutError` (describing the recent calls) after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                recent = ", ".join(f"{c.method}→{c.status}/{c.error or 'ok'}" for c in self._calls[-8:])
                raise TimeoutError(
                    f"condition not met within {timeout} s; last Web API calls: {recent or 'none'}"
                )
            await asyncio.sleep(interval)

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[RecordedCall]:
        """Wait until `method` was called at least `count` times; returns those calls."""

        def enough() -> list[RecordedCall]:
            calls = self.calls_to(method)
            return calls if len(calls) >= count else []

        return await self.wait_for(enough, timeout)

    # ---- HTTP handlers ------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        started = time.perf_counter()
        call = RecordedCall(method=method, args={}, at=time.time())
        self._calls.append(call)
        if len(self._calls) > self.max_recorded_calls:
            del self._calls[: len(self._calls) - self.max_recorded_calls]
        status = 200
        headers: dict[str, str] = {}
        try:
            args = await request_args(request)
        except ValueError as error:
            body: JSON = {"ok": False, "error": str(error)}
            args = {}
        else:
            token = request_token(request, args)  # taken out of `args`: never kept in the records
            call.args = args
            delay = self.faults.latency_for(method)
            if delay > 0:
                await asyncio.sleep(delay)
            rule = self.faults.take_failure(method)
            refused = token_refusal(
                method, token, bot_token=self.bot_token, app_token=self.app_token
            ) or self.faults.take_refusal(method, args)
            if rule is not None:
                status, body, headers = rule.status, rule.body(), rule.headers()
            elif refused is not None:
                body = {"ok": False, "error": refused}
            else:
                if not needs_app_token(method) and self.bot_scopes is not None:
                    headers["x-oauth-scopes"] = ",".join(self.bot_scopes)
                try:
                    body = self.webapi.call(method, args)
                except ApiError as error:
                    body = error.body()
                except RefusedByPacing:
                    status, body, headers = 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
        call.status, call.response, call.duration = status, body, time.perf_counter() - started
        return web.json_response(body, status=status, headers=headers)

    async def _response_url(self, request: web.Request) -> web.Response:
        response, post = await answer_response_post(request, self.workspace, self.faults)
        self._responses.append(post)
        return response
