"""Fixtures for Microsoft Entra ID: a stand-in managed identity whose tokens the emulator accepts.

`entra` starts `FakeManagedIdentity`, puts its `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` in the environment
(where azure-identity's DefaultAzureCredential finds it) and clears every other credential variable, so no
token is ever asked of the internet. Each token issued is accepted by the emulator with `roles[resource]`
(the data plane: Cognitive Services OpenAI Contributor; the management plane: Cognitive Services
Contributor); a test changes `roles` to take a role away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.sandbox.emulator.entra import CONTRIBUTOR
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.identity import FakeManagedIdentity

DATA_RESOURCE = "https://cognitiveservices.azure.com"
MANAGEMENT_RESOURCE = "https://management.azure.com"

# Variables through which azure-identity could find a real credential on a developer's machine.
CREDENTIAL_VARIABLES = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


@dataclass
class EntraRig:
    identity: FakeManagedIdentity
    roles: dict[str, list[str]] = field(default_factory=dict)


def no_credential_env(monkeypatch: pytest.MonkeyPatch, identity: FakeManagedIdentity) -> None:
    """An environment where DefaultAzureCredential finds nothing: no variables, and the VM metadata
    endpoint it would probe is the stand-in's, which says no identity is assigned (never 169.254…)."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", identity.url)
    # No Azure CLI profile of the person running the tests either.
    monkeypatch.setenv("AZURE_CONFIG_DIR", "/nonexistent-tuneops-azure-config")


@pytest.fixture
async def entra(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EntraRig]:
    rig_roles: dict[str, list[str]] = {
        DATA_RESOURCE: [CONTRIBUTOR],
        MANAGEMENT_RESOURCE: ["Cognitive Services Contributor"],
    }

    def accept(token: str, resource: str) -> None:
        roles = rig_roles.get(resource.rstrip("/"))
        if roles is not None:  # a resource taken out of `roles` does not know the identity's tokens
            emulator.entra.accept(token, roles)

    async with FakeManagedIdentity(on_issue=accept) as identity:
        no_credential_env(monkeypatch, identity)
        for name, value in identity.env.items():
            monkeypatch.setenv(name, value)
        yield EntraRig(identity=identity, roles=rig_roles)
