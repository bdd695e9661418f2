"""A stand-in managed identity endpoint, so Entra ID sign-in can be tried without Azure.

It answers the way App Service's identity endpoint does, which azure-identity's `DefaultAzureCredential`
uses when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set: `GET {endpoint}?api-version=2019-08-01&
resource=<resource>` with the `X-IDENTITY-HEADER` secret, answered `{access_token, expires_on, resource,
token_type}`. Every token it hands out is passed to `on_issue` (the emulator accepts it with the roles the
identity was given). It also answers the VM metadata path as a machine with no identity would, so a test
that points `AZURE_POD_IDENTITY_AUTHORITY_HOST` here sees "no credential" without leaving 127.0.0.1.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

TOKEN_PATH = "/msi/token"
IMDS_PATH = "/metadata/identity/oauth2/token"

IssueHook = Callable[[str, str], None]


class FakeManagedIdentity:
    """`async with FakeManagedIdentity(on_issue=…) as identity:` then put `identity.env` in the environment."""

    def __init__(
        self,
        *,
        on_issue: IssueHook | None = None,
        lifetime_seconds: int = 3600,
        host: str = "127.0.0.1",
    ) -> None:
        self._on_issue = on_issue
        self.lifetime_seconds = lifetime_seconds
        self._host = host
        self._port = 0
        self._header = secrets.token_hex(16)
        self._runner: web.AppRunner | None = None
        # Whether the endpoint refuses to hand out tokens (the identity was removed from the host).
        self.refusing = False
        self.issued: list[tuple[str, str]] = []  # (resource, token), oldest first
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def env(self) -> dict[str, str]:
        """The variables azure-identity reads to use this endpoint as App Service's managed identity."""
        return {"IDENTITY_ENDPOINT": self.url + TOKEN_PATH, "IDENTITY_HEADER": self._header}

    def tokens_for(self, resource: str) -> list[str]:
        return [token for issued_for, token in self.issued if issued_for == resource]

    async def _token(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("X-IDENTITY-HEADER") != self._header:
            return web.json_response(
                {"error": "invalid_request", "message": "bad identity header"}, status=401
            )
        resource = request.query.get("resource", "")
        if not resource:
            return web.json_response(
                {"error": "invalid_request", "message": "resource is required"}, status=400
            )
        if self.refusing:
            return web.json_response(
                {"error": "unauthorized_client", "error_description": "The identity was removed."}, status=401
            )
        token = f"entra.{secrets.token_urlsafe(24)}"
        self.issued.append((resource, token))
        if self._on_issue is not None:
            self._on_issue(token, resource)
        return web.json_response(
            {
                "access_token": token,
                "expires_on": str(int(time.time()) + self.lifetime_seconds),
                "resource": resource,
                "token_type": "Bearer",
            }
        )

    async def _no_identity(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"error": "invalid_request", "error_description": "Identity not found"}, status=400
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(TOKEN_PATH, self._token)
        app.router.add_get(IMDS_PATH, self._no_identity)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeManagedIdentity:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
