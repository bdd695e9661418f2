"""The emulator's HTTP server: routes for both dialects, auth, injected faults, request ids and stats."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType

from aiohttp import web

from bot.app.signals import stopped_by_signals
from bot.sandbox.emulator.api import ROUTES, ApiHandlers
from bot.sandbox.emulator.base_models import MODEL_ROUTES, ModelHandlers
from bot.sandbox.emulator.chat import CHAT_PATH, ChatHandlers
from bot.sandbox.emulator.clock import EmulatorClock
from bot.sandbox.emulator.control_routes import ControlHandlers
from bot.sandbox.emulator.entra import EntraGrants, entra_routes
from bot.sandbox.emulator.errors import ApiError, bad_request, invalid_url, unauthorized
from bot.sandbox.emulator.faults import FaultInjector, RequestStats
from bot.sandbox.emulator.flavour import (
    AZURE_API_VERSIONS,
    AZURE_PREFIX,
    FLAVOUR_KEY,
    OPENAI_PREFIX,
    REQUEST_ID_HEADER,
    Flavour,
    flavour_of_path,
)
from bot.sandbox.emulator.management import Management
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE, EmulatorState
from bot.sandbox.emulator.webhooks import WebhookSender
from bot.sandbox.emulator.wind_down import WindDown

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_UPLOAD_BYTES = 520 * 1024 * 1024


def _presented_key(request: web.Request, flavour: Flavour) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    if flavour == "azure":
        return request.headers.get("api-key")
    return None


def _is_bearer(request: web.Request) -> bool:
    return request.headers.get("Authorization", "")[:7].lower() == "bearer "


class EmulatorServer:
    """The fine-tuning API emulator on a real port; `async with EmulatorServer() as emu:` starts and stops it."""

    def __init__(
        self,
        *,
        api_key: str = "sk-emulator",
        speed: float = 1.0,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._api_key = api_key
        self._host = host
        self._port = port
        self.clock = EmulatorClock(speed)
        self.state = EmulatorState(self.clock, seed=seed)
        self.faults = FaultInjector(seed)
        self.stats = RequestStats()
        self.entra = EntraGrants()
        self.wind_down = WindDown()
        self.management = Management(self.state, self.entra)
        self.chat = ChatHandlers(self.state, self.management)
        self.api = ApiHandlers(self.state)
        self.webhooks = WebhookSender(self.state)
        self.models = ModelHandlers(self.state)
        self._control = ControlHandlers(self.state, self.faults, self.stats, self.api, self.webhooks)
        self._runner: web.AppRunner | None = None
        # Set on stop: an injected delay under way ends then, so a long latency fault cannot hold a stop.
        self._stopping = asyncio.Event()

    # ---- addresses -------------------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self._port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + OPENAI_PREFIX

    @property
    def azure_endpoint(self) -> str:
        """The Azure resource endpoint; clients append `/openai/v1`."""
        return self.url

    # ---- app -------------------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_UPLOAD_BYTES)
        for flavour, prefix in (("openai", OPENAI_PREFIX), ("azure", AZURE_PREFIX)):
            for method, path, operation, attribute in ROUTES:
                app.router.add_route(
                    method, prefix + path, getattr(self.api, attribute), name=f"{flavour}:{operation}"
                )
            app.router.add_route(
                "POST", prefix + CHAT_PATH, self.chat.create, name=f"{flavour}:createChatCompletion"
            )
            for method, path, operation, attribute in MODEL_ROUTES:
                app.router.add_route(
                    method, prefix + path, getattr(self.models, attribute), name=f"{flavour}:{operation}"
                )
        app.add_routes(self._control.routes())
        app.add_routes(entra_routes(self.entra))
        app.add_routes(self.wind_down.routes())
        app.add_routes(self.management.routes())
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        flavour = flavour_of_path(request.path)
        if flavour is None:
            return await handler(request)
        request[FLAVOUR_KEY] = flavour
        route_name = getattr(request.match_info.route, "name", None) or ""
        operation = route_name.partition(":")[2] or "unknown"
        try:
            response = await self._guarded(request, handler, flavour)
        except ApiError as exc:
            response = web.json_response(exc.body(flavour), status=exc.status, headers=exc.headers)
        response.headers[REQUEST_ID_HEADER[flavour]] = uuid.uuid4().hex
        self.stats.record(operation, response.status)
        return response

    async def _guarded(self, request: web.Request, handler: Handler, flavour: Flavour) -> web.StreamResponse:
        presented = _presented_key(request, flavour)
        if presented is None or not hmac.compare_digest(presented.encode(), self._api_key.encode()):
            if not (flavour == "azure" and presented and _is_bearer(request)):
                raise unauthorized(flavour, presented)
            # Azure with a bearer token that is not the key: a Microsoft Entra ID token.
            self.entra.check_data_plane(presented, request.method, request.path)
        if flavour == "azure":
            version = request.query.get("api-version")
            if version is not None and version not in AZURE_API_VERSIONS:
                raise bad_request(
                    f"Unsupported api-version '{version[:40]}'. The /openai/v1 routes accept 'v1' or 'preview'.",
                    param="api-version",
                    code="unsupported_api_version",
                )
        delay, failing = self.faults.pick(request.method, request.path)
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        if failing is not None:
            self.stats.faults_injected += 1
            if failing.raw_body is not None:
                return web.Response(text=failing.raw_body, status=200, content_type="text/html")
            raise failing.error(flavour)
        self.wind_down.check(request.method, request.path, flavour)
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            raise invalid_url(request.method, request.path) from None

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.build_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])
        await self.webhooks.start()

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            self._stopping.set()
            await self.webhooks.stop()
            await runner.cleanup()
            self._stopping.clear()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


async def serve_forever(
    *,
    host: str,
    port: int,
    speed: float,
    api_key: str,
    seed: int,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> None:
    """`tuneops emulator`: serve until Ctrl-C or SIGTERM (sending webhooks when given a URL and secret)."""
    server = EmulatorServer(api_key=api_key, speed=speed, seed=seed, host=host, port=port)
    if webhook_url is not None and webhook_secret is not None:
        server.webhooks.configure(webhook_url, webhook_secret)
    await server.start()
    with stopped_by_signals() as stopping:
        print(f"TuneOps fine-tuning API emulator on {server.url} (speed ×{speed:g})", flush=True)
        print(f"  OpenAI:   OPENAI_BASE_URL={server.openai_base_url}", flush=True)
        print(
            f"  Azure:    AZURE_OPENAI_ENDPOINT={server.azure_endpoint}  (requests go to /openai/v1/...)",
            flush=True,
        )
        print("  API key:  the one given by --api-key (default sk-emulator)", flush=True)
        print(f"  Files:    {DEMO_TRAINING_FILE} (training), {DEMO_VALIDATION_FILE} (validation)", flush=True)
        print(
            f"  Control:  {server.url}/_emulator/  (faults, clock, speed, stats, reset, webhooks)", flush=True
        )
        if server.webhooks.configured:
            print(f"  Webhooks: signed events on job ends to {server.webhooks.url}", flush=True)
        try:
            await stopping.wait()
        finally:
            await server.stop()
            print("emulator stopped", flush=True)
