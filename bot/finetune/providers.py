"""Where requests go and how they are signed, per provider.

Both providers serve the same paths and shapes; what differs is the base URL, the auth header, an optional
`api-version` query parameter (and, on Azure without a key, an Entra ID token), Azure's `trainingType` create field, and whether listing jobs can filter by
metadata. Everything provider-specific lives here so the rest of the service never asks which one it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.config import ConfigError, Settings
from bot.finetune.entra import COGNITIVE_SCOPE, EntraTokens, default_credential
from bot.finetune.spec import ProviderName

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
AZURE_API_PATH = "/openai/v1"


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class ProviderConfig:
    """Everything the client needs to address one provider. The repr never shows the auth headers."""

    name: ProviderName
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    params: Mapping[str, str] = field(default_factory=dict)
    extra_create_fields: Mapping[str, Any] = field(default_factory=dict)
    supports_metadata_filter: bool = False
    # Azure without a key: an Entra ID bearer token is added to every request (see `entra.py`).
    tokens: EntraTokens | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "headers", _frozen(self.headers))
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "extra_create_fields", _frozen(self.extra_create_fields))

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @classmethod
    def openai(
        cls,
        api_key: str,
        *,
        base_url: str = OPENAI_DEFAULT_BASE_URL,
        organization: str | None = None,
        project: str | None = None,
    ) -> ProviderConfig:
        headers = {"Authorization": f"Bearer {api_key}"}
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        return cls(name="openai", base_url=base_url, headers=headers, supports_metadata_filter=True)

    @classmethod
    def azure(
        cls,
        endpoint: str,
        api_key: str | None,
        *,
        api_version: str | None = "v1",
        training_type: str | None = None,
        tokens: EntraTokens | None = None,
    ) -> ProviderConfig:
        """Azure AI Foundry v1: `{endpoint}/openai/v1`, `api-key` header (or, with no key, an Entra ID
        bearer token from `tokens`), optional `api-version` query.

        An endpoint pasted with the `/openai/v1` (or `/openai`) path already on it is accepted as well.
        """
        root = endpoint.rstrip("/")
        for tail in (AZURE_API_PATH, "/openai"):
            if root.endswith(tail):
                root = root[: -len(tail)]
                break
        params = {"api-version": api_version} if api_version else {}
        extra = {"trainingType": training_type} if training_type else {}
        return cls(
            name="azure",
            base_url=root + AZURE_API_PATH,
            headers={"api-key": api_key} if api_key else {},
            params=params,
            extra_create_fields=extra,
            # The Azure v1 spec has no `metadata[k]=v` filter on the job list; the client filters itself.
            supports_metadata_filter=False,
            tokens=None if api_key else tokens,
        )


def provider_from_settings(settings: Settings) -> ProviderConfig:
    """Build the provider chosen by `TUNEOPS_PROVIDER`; a missing key is a `ConfigError` naming the variable."""
    if settings.provider == "azure":
        key = settings.azure_openai_api_key.get_secret_value() if settings.azure_openai_api_key else ""
        problems = []
        if not settings.azure_openai_endpoint:
            problems.append("AZURE_OPENAI_ENDPOINT is not set (e.g. https://my-resource.openai.azure.com)")
        if problems or not settings.azure_openai_endpoint:
            raise ConfigError(problems)
        # No key: Microsoft Entra ID (most tenants turn key auth off).
        tokens = None if key else EntraTokens(default_credential(), COGNITIVE_SCOPE)
        return ProviderConfig.azure(
            settings.azure_openai_endpoint,
            key or None,
            api_version=settings.azure_openai_api_version,
            training_type=settings.azure_training_type or None,
            tokens=tokens,
        )
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key:
        raise ConfigError(
            ["OPENAI_API_KEY is not set (or set TUNEOPS_PROVIDER=azure with the AZURE_* variables)"]
        )
    return ProviderConfig.openai(
        key,
        base_url=settings.openai_base_url,
        organization=settings.openai_org_id or None,
        project=settings.openai_project_id or None,
    )
