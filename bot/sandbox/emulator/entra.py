"""Microsoft Entra ID on the emulator's Azure paths: bearer tokens it was told to accept, with their roles.

Azure checks a token (401 when it is unknown, expired or for another audience) and then the role the
identity holds on the resource (403 `PermissionDenied` when the role lacks the data action). The emulator
does the same with the tokens it was given (`accept`, or `POST /_emulator/entra/tokens`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web

from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.flavour import CONTROL_PREFIX

CONTRIBUTOR = "Cognitive Services OpenAI Contributor"
USER = "Cognitive Services OpenAI User"
# Deployments (the management plane) need a control-plane role on the resource.
MANAGEMENT_ROLES = frozenset({"Cognitive Services Contributor", "Contributor", "Owner"})
# Reading jobs, files and models and calling chat completions are open to the User role; the rest needs
# Contributor (creating and controlling jobs, uploading files).
READ_ROLES = frozenset({CONTRIBUTOR, USER})


@dataclass
class EntraGrants:
    """Accepted tokens and the roles each one's identity holds."""

    roles_by_token: dict[str, frozenset[str]] = field(default_factory=dict)

    def accept(self, token: str, roles: Iterable[str] = (CONTRIBUTOR,)) -> None:
        self.roles_by_token[token] = frozenset(roles)

    def clear(self) -> None:
        self.roles_by_token.clear()

    def check_data_plane(self, token: str, method: str, path: str) -> None:
        """Raise the error Azure answers for this token on this request, or nothing when allowed."""
        roles = self.roles_by_token.get(token)
        if roles is None:
            raise token_refused("https://cognitiveservices.azure.com")
        reading = method in ("GET", "HEAD") or path.endswith("/chat/completions")
        allowed = READ_ROLES if reading else frozenset({CONTRIBUTOR})
        if not roles & allowed:
            raise role_missing(method, path, "Microsoft.CognitiveServices/accounts/OpenAI/*")

    def check_management(self, token: str, method: str, path: str) -> None:
        roles = self.roles_by_token.get(token)
        if roles is None:
            raise token_refused("https://management.azure.com")
        if not roles & MANAGEMENT_ROLES:
            raise role_missing(method, path, "Microsoft.CognitiveServices/accounts/deployments/write")


def token_refused(audience: str) -> ApiError:
    return ApiError(
        401,
        "Unauthorized. Access token is missing, invalid, audience is incorrect "
        f"({audience}), or have expired.",
        code="401",
    )


def role_missing(method: str, path: str, data_action: str) -> ApiError:
    return ApiError(
        403,
        f"The principal `tuneops-emulator-identity` lacks the required data action `{data_action}` to "
        f"perform `{method} {path}` operation.",
        code="PermissionDenied",
    )


def entra_routes(grants: EntraGrants) -> list[web.RouteDef]:
    """`POST /_emulator/entra/tokens {"token", "roles"}` accepts a token; `DELETE` forgets them all."""

    async def accept(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        token = body.get("token") if isinstance(body, dict) else None
        roles = body.get("roles", [CONTRIBUTOR]) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(roles, list):
            return web.json_response(
                {"error": {"message": "'token' (a string) and 'roles' (a list) are required"}}, status=400
            )
        grants.accept(token, [str(role) for role in roles])
        return web.json_response({"tokens": len(grants.roles_by_token)})

    async def forget(request: web.Request) -> web.Response:
        grants.clear()
        return web.json_response({"tokens": 0})

    return [
        web.post(f"{CONTROL_PREFIX}/entra/tokens", accept),
        web.delete(f"{CONTROL_PREFIX}/entra/tokens", forget),
    ]
