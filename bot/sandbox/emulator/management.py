"""Azure's management plane for deployments of fine-tuned models, as the emulator serves it.

`{PUT,GET,DELETE} /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/
accounts/{account}/deployments/{name}?api-version=…` and `GET …/deployments` (the list), with an Entra ID
bearer token of the management scope (roles in `entra.py`). A new deployment is `Creating` for
`provisioning_seconds` of emulated time, then `Succeeded` (or `Failed`, when asked for). The model must be
a succeeded job's fine-tuned model or one of a job's checkpoints; at most five deployments per account.
`POST /_emulator/management` sets the delay, fails the next provisioning, refuses the next PUT or backdates
deployments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.emulator.clock import EmulatorClock
from bot.sandbox.emulator.entra import EntraGrants
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.flavour import CONTROL_PREFIX
from bot.sandbox.emulator.ids import checkpoint_id
from bot.sandbox.emulator.state import EmulatorState

ACCOUNT_PATH = (
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{account}"
)
API_VERSIONS = frozenset({"2023-05-01", "2024-10-01", "2024-10-21", "2025-06-01"})
SKUS = {"standard": "Standard", "globalstandard": "GlobalStandard", "developertier": "DeveloperTier"}
MAX_DEPLOYMENTS = 5


@dataclass
class Deployment:
    name: str
    path: str
    model: str
    sku: str
    capacity: int
    created_at: float
    fails: str | None = None  # provisioning ends Failed with this message

    def state(self, now: float, delay: float) -> str:
        if now < self.created_at + delay:
            return "Creating"
        return "Failed" if self.fails else "Succeeded"


@dataclass
class Management:
    state: EmulatorState
    entra: EntraGrants
    provisioning_seconds: float = 30.0
    fail_next: str | None = None
    refuse_next: dict[str, Any] | None = None
    deployments: dict[str, Deployment] = field(default_factory=dict)  # by account path + name
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path), oldest first

    @property
    def clock(self) -> EmulatorClock:
        return self.state.clock

    def routes(self) -> list[web.RouteDef]:
        one = ACCOUNT_PATH + "/deployments/{name}"
        return [
            web.put(one, _arm(self.put)),
            web.get(one, _arm(self.get)),
            web.delete(one, _arm(self.delete)),
            web.get(ACCOUNT_PATH + "/deployments", _arm(self.list)),
            web.post(f"{CONTROL_PREFIX}/management", self.configure),
        ]

    # ---- the management API ------------------------------------------------------------------------

    def _guard(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path))
        authorization = request.headers.get("Authorization", "")
        if authorization[:7].lower() != "bearer ":
            raise _arm_error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        try:
            self.entra.check_management(authorization[7:].strip(), request.method, request.path)
        except ApiError as exc:
            code = "AuthorizationFailed" if exc.status == 403 else "InvalidAuthenticationToken"
            raise _arm_error(exc.status, code, exc.message) from None
        version = request.query.get("api-version")
        if version not in API_VERSIONS:
            raise _arm_error(
                400,
                "MissingApiVersionParameter" if version is None else "InvalidApiVersionParameter",
                f"The api-version '{version or ''}' is invalid. The supported versions are "
                f"'{', '.join(sorted(API_VERSIONS))}'.",
            )

    def _account(self, request: web.Request) -> str:
        info = request.match_info
        return ACCOUNT_PATH.format(sub=info["sub"], rg=info["rg"], account=info["account"])

    def _render(self, deployment: Deployment) -> dict[str, Any]:
        state = deployment.state(self.clock.now(), self.provisioning_seconds)
        properties: dict[str, Any] = {
            "model": {"format": "OpenAI", "name": deployment.model, "version": "1"},
            "provisioningState": state,
        }
        if state == "Failed":
            properties["error"] = {"code": "DeploymentFailed", "message": deployment.fails}
        return {
            "id": deployment.path,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "name": deployment.name,
            "sku": {"name": deployment.sku, "capacity": deployment.capacity},
            "properties": properties,
            "systemData": {"createdAt": self.clock.unix_at(deployment.created_at)},
        }

    async def put(self, request: web.Request) -> web.Response:
        self._guard(request)
        if self.refuse_next is not None:
            refusal, self.refuse_next = self.refuse_next, None
            raise _arm_error(
                int(refusal.get("status", 400)),
                str(refusal.get("code", "BadRequest")),
                str(refusal.get("message", "The request was refused.")),
            )
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _arm_error(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            )
        sku, capacity, model = _read_body(body)
        if not self._known_model(model):
            raise _arm_error(
                400,
                "DeploymentModelNotSupported",
                f"The model '{model}' is not a fine-tuned model or checkpoint of this resource, or its job has "
                "not succeeded.",
            )
        account = self._account(request)
        path = f"{account}/deployments/{request.match_info['name']}"
        existing = [d for key, d in self.deployments.items() if key.startswith(account + "/")]
        if path not in self.deployments and len(existing) >= MAX_DEPLOYMENTS:
            raise _arm_error(
                409,
                "InsufficientQuota",
                f"This operation require {capacity} new capacity but the resource already has "
                f"{MAX_DEPLOYMENTS} deployments of fine-tuned models, the most it may have.",
            )
        deployment = Deployment(
            name=request.match_info["name"],
            path=path,
            model=model,
            sku=sku,
            capacity=capacity,
            created_at=self.clock.now(),
            fails=self.fail_next,
        )
        self.fail_next = None
        created = path not in self.deployments
        self.deployments[path] = deployment
        return web.json_response(self._render(deployment), status=201 if created else 200)

    async def get(self, request: web.Request) -> web.Response:
        self._guard(request)
        deployment = self.deployments.get(
            f"{self._account(request)}/deployments/{request.match_info['name']}"
        )
        if deployment is None:
            raise _not_found(request.match_info["name"])
        return web.json_response(self._render(deployment))

    async def delete(self, request: web.Request) -> web.Response:
        self._guard(request)
        path = f"{self._account(request)}/deployments/{request.match_info['name']}"
        if self.deployments.pop(path, None) is None:
            return web.Response(status=204)
        return web.Response(status=200)

    async def list(self, request: web.Request) -> web.Response:
        self._guard(request)
        account = self._account(request)
        found = [
            self._render(d) for key, d in sorted(self.deployments.items()) if key.startswith(account + "/")
        ]
        return web.json_response({"value": found})

    def _known_model(self, model: str) -> bool:
        for record in self.state.jobs.values():
            seen = self.state.view(record, with_events=False)
            if seen.status == "succeeded" and model == record.plan.fine_tuned_model:
                return True
            for happening in self.state.checkpoints(record):
                if model == checkpoint_id(record.id, happening.checkpoint_step or 0, record.flavour):
                    return True
        return False

    # ---- control ------------------------------------------------------------------------------------

    async def configure(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"error": {"message": "the body must be a JSON object"}}, status=400)
        if "provisioning_seconds" in body:
            seconds = body["provisioning_seconds"]
            if not isinstance(seconds, int | float) or seconds < 0:
                return web.json_response(
                    {"error": {"message": "'provisioning_seconds' must be a number of at least 0"}},
                    status=400,
                )
            self.provisioning_seconds = float(seconds)
        if "fail_next" in body:
            self.fail_next = None if body["fail_next"] is None else str(body["fail_next"])
        if (
            "backdate" in body
        ):  # {name: seconds}: deployments made that long ago (their age, for idle warnings)
            backdate = body["backdate"]
            if not isinstance(backdate, dict) or not all(
                isinstance(v, int | float) and v >= 0 for v in backdate.values()
            ):
                return web.json_response(
                    {"error": {"message": "'backdate' maps deployment names to seconds"}}, status=400
                )
            for deployment in self.deployments.values():
                if deployment.name in backdate:
                    deployment.created_at -= float(backdate[deployment.name])
        if "refuse_next" in body:
            refusal = body["refuse_next"]
            if refusal is not None and not isinstance(refusal, dict):
                return web.json_response(
                    {"error": {"message": "'refuse_next' must be an object"}}, status=400
                )
            self.refuse_next = refusal
        return web.json_response(
            {
                "provisioning_seconds": self.provisioning_seconds,
                "fail_next": self.fail_next,
                "refuse_next": self.refuse_next,
                "deployments": len(self.deployments),
            }
        )


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _arm(handler: Handler) -> Handler:
    """ARM errors as ARM answers them: `{"error": {"code", "message"}}` with the status."""

    async def answer(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ApiError as exc:
            body = {"error": {"code": exc.code or str(exc.status), "message": exc.message}}
            return web.json_response(body, status=exc.status)

    return answer


def _read_body(body: dict[str, Any]) -> tuple[str, int, str]:
    sku = _object(body.get("sku"))
    model = _object(_object(body.get("properties")).get("model"))
    sku_name = SKUS.get(str(sku.get("name", "")).lower())
    if sku_name is None:
        raise _arm_error(
            400, "InvalidSkuName", f"The SKU '{sku.get('name')}' is not one of {', '.join(SKUS.values())}."
        )
    capacity = sku.get("capacity", 1)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise _arm_error(400, "InvalidCapacity", "The capacity must be a whole number of at least 1.")
    if model.get("format") != "OpenAI" or not isinstance(model.get("name"), str) or not model["name"]:
        raise _arm_error(400, "InvalidModel", "properties.model needs format 'OpenAI', a name and a version.")
    return sku_name, capacity, str(model["name"])


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _not_found(name: str) -> ApiError:
    return _arm_error(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")


def _arm_error(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, message, code=code)
