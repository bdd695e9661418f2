"""Azure's management plane: deployments of fine-tuned models on one Azure OpenAI / AI Foundry account.

`PUT|GET|DELETE {management}/subscriptions/{sub}/resourceGroups/{rg}/providers/
Microsoft.CognitiveServices/accounts/{account}/deployments/{name}?api-version=2024-10-21` and the list
(`GET …/deployments`). Always Microsoft Entra ID (scope `https://management.azure.com/.default`): the
management plane takes no API key. A deployment reports `properties.provisioningState` (Creating, then
Succeeded or Failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.finetune.entra import EntraTokens
from bot.finetune.errors import UnexpectedResponseError
from bot.finetune.http_errors import connection_error, status_error

API_VERSION = "2024-10-21"
DEFAULT_MANAGEMENT_URL = "https://management.azure.com"
SETTLED_STATES = frozenset({"Succeeded", "Failed", "Canceled"})
# What `sku=` accepts in Slack, and the SKU name Azure knows it by.
SKUS = {"standard": "standard", "globalstandard": "globalstandard", "developer": "developertier"}


@dataclass(frozen=True)
class AzureAccount:
    """The Azure OpenAI / AI Foundry account deployments go to."""

    subscription_id: str
    resource_group: str
    account: str
    management_url: str = DEFAULT_MANAGEMENT_URL

    def deployments_url(self, name: str | None = None) -> str:
        base = (
            f"{self.management_url.rstrip('/')}/subscriptions/{quote(self.subscription_id, safe='')}"
            f"/resourceGroups/{quote(self.resource_group, safe='')}/providers/Microsoft.CognitiveServices"
            f"/accounts/{quote(self.account, safe='')}/deployments"
        )
        return base if name is None else f"{base}/{quote(name, safe='')}"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class DeploymentSku(_Loose):
    name: str = ""
    capacity: int | None = None


class DeployedModel(_Loose):
    name: str = ""
    format: str | None = None
    version: str | None = None


class DeploymentError(_Loose):
    code: str | None = None
    message: str | None = None


class DeploymentProperties(_Loose):
    model: DeployedModel = Field(default_factory=DeployedModel)
    provisioning_state: str = Field(default="", alias="provisioningState")
    error: DeploymentError | None = None


class SystemData(_Loose):
    created_at: Any = Field(default=None, alias="createdAt")
    last_modified_at: Any = Field(default=None, alias="lastModifiedAt")


class Deployment(_Loose):
    name: str
    sku: DeploymentSku = Field(default_factory=DeploymentSku)
    properties: DeploymentProperties = Field(default_factory=DeploymentProperties)
    system_data: SystemData | None = Field(default=None, alias="systemData")

    @property
    def state(self) -> str:
        return self.properties.provisioning_state or "Unknown"

    @property
    def settled(self) -> bool:
        return self.state in SETTLED_STATES

    @property
    def model(self) -> str:
        return self.properties.model.name

    @property
    def failure(self) -> str | None:
        error = self.properties.error
        return (error.message or error.code) if error else None


class DeploymentsClient:
    """Deployments of one account, signed with Entra ID tokens of the management scope."""

    def __init__(
        self, account: AzureAccount, tokens: EntraTokens, *, http: httpx.AsyncClient | None = None
    ) -> None:
        self._account = account
        self._tokens = tokens
        self._owns_http = http is None
        self._http = (
            http if http is not None else httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
        )

    @property
    def account(self) -> AzureAccount:
        return self._account

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        await self._tokens.aclose()

    async def put(self, name: str, *, model: str, sku: str, capacity: int) -> Deployment:
        body = {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}},
        }
        return self._parse(await self._send("PUT", name, json=body))

    async def get(self, name: str) -> Deployment | None:
        response = await self._send("GET", name, missing_ok=True)
        return None if response is None else self._parse(response)

    async def delete(self, name: str) -> bool:
        """True when a deployment was deleted, False when there was none of that name."""
        response = await self._send("DELETE", name, missing_ok=True)
        return response is not None and response.status_code != 204

    async def list(self) -> list[Deployment]:
        response = await self._send("GET", None)
        try:
            values = response.json().get("value", [])
            return [Deployment.model_validate(value) for value in values]
        except (ValueError, AttributeError, ValidationError) as exc:
            raise UnexpectedResponseError("Azure sent an unreadable list of deployments") from exc

    async def _send(
        self, method: str, name: str | None, *, json: dict[str, Any] | None = None, missing_ok: bool = False
    ) -> Any:
        url = self._account.deployments_url(name)
        token = await self._tokens.token()
        try:
            response = await self._http.request(
                method,
                url,
                params={"api-version": API_VERSION},
                json=json,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError as exc:
            raise connection_error(exc, httpx.URL(url).host) from exc
        if missing_ok and response.status_code == 404:
            return None
        if not response.is_success:
            raise status_error(response)
        return response

    @staticmethod
    def _parse(response: httpx.Response) -> Deployment:
        try:
            return Deployment.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise UnexpectedResponseError("Azure sent an unreadable deployment") from exc
