"""Microsoft Entra ID tokens for Azure, when no `AZURE_OPENAI_API_KEY` is set.

`azure-identity`'s `DefaultAzureCredential` (async) finds a credential the usual way: a service principal
in the environment, workload identity, managed identity, then the Azure CLI and the other developer tools.
`EntraTokens` asks it for a token of one scope, keeps the token until a few minutes before it expires and
registers every token it gets with the redaction, so a token never reaches a log line or a message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from bot.finetune.errors import FineTuneError
from bot.ops.redaction import register_secrets

# The data plane (fine-tuning jobs, files, chat) and the management plane (deployments).
COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"
# The role an identity needs on the resource to run fine-tuning jobs (and to read them).
JOBS_ROLE = "Cognitive Services OpenAI Contributor"
# A token is replaced this long before it expires, so no request goes out with one about to lapse.
REFRESH_MARGIN_SECONDS = 300.0


class TokenCredential(Protocol):
    """What azure-identity's async credentials offer (DefaultAzureCredential and every other one)."""

    async def get_token(self, *scopes: str) -> AccessToken: ...

    async def close(self) -> None: ...


class EntraError(FineTuneError):
    """No Entra ID token could be had. `found` says whether some credential existed but failed (an
    identity endpoint refused it) rather than none at all being configured."""

    def __init__(self, message: str, *, found: bool) -> None:
        super().__init__(message)
        self.found = found


def default_credential() -> TokenCredential:
    """DefaultAzureCredential, async flavour. It reads the environment now (IDENTITY_ENDPOINT, AZURE_*)."""
    from azure.identity.aio import DefaultAzureCredential

    credential: TokenCredential = DefaultAzureCredential()
    return credential


def credential_name(credential: object) -> str | None:
    """Which credential of the chain gave the last token (e.g. `ManagedIdentityCredential`), if known.

    The chain keeps the one that worked; azure-identity does not publish it otherwise."""
    chosen = getattr(credential, "_successful_credential", None)
    if chosen is None:
        return type(credential).__name__ if credential is not None else None
    return type(chosen).__name__


class EntraTokens:
    """Bearer tokens of one scope from one credential, cached until `REFRESH_MARGIN_SECONDS` before expiry.

    Shared by every request of a client; concurrent requests wait for one fetch instead of each asking."""

    def __init__(
        self,
        credential: TokenCredential,
        scope: str,
        *,
        clock: Callable[[], float] = time.time,
        owns_credential: bool = True,
    ) -> None:
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._owns_credential = owns_credential
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()

    @property
    def scope(self) -> str:
        return self._scope

    @property
    def credential(self) -> TokenCredential:
        return self._credential

    def __repr__(self) -> str:  # never the token
        return f"EntraTokens(scope={self._scope!r})"

    def for_scope(self, scope: str) -> EntraTokens:
        """Tokens of another scope from the same credential (the management plane, for deployments)."""
        return EntraTokens(self._credential, scope, clock=self._clock, owns_credential=False)

    def _fresh(self) -> bool:
        token = self._token
        return token is not None and token.expires_on - REFRESH_MARGIN_SECONDS > self._clock()

    async def token(self) -> str:
        """A token good for at least a few more minutes; `EntraError` in plain words when none can be had."""
        if self._fresh() and self._token is not None:
            return self._token.token
        async with self._lock:
            if not self._fresh():
                self._token = await self._fetch()
            assert self._token is not None
            return self._token.token

    def forget(self) -> None:
        """Drop the cached token (the API refused it): the next request asks the credential again."""
        self._token = None

    async def _fetch(self) -> AccessToken:
        try:
            token = await self._credential.get_token(self._scope)
        except CredentialUnavailableError as exc:
            raise _none_found(_first_line(exc)) from exc
        except ClientAuthenticationError as exc:
            raise _chain_failure(self._credential, self._scope, exc) from exc
        register_secrets([token.token])
        return token

    async def aclose(self) -> None:
        if self._owns_credential:
            await self._credential.close()


def _none_found(details: str) -> EntraError:
    return EntraError(
        "no Microsoft Entra ID credential was found (tried the environment, workload identity, managed "
        "identity and the Azure CLI): set AZURE_OPENAI_API_KEY, or give this host an identity (a managed "
        f"identity, a service principal in AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or `az "
        f"login`). Details: {details}",
        found=False,
    )


def _chain_failure(credential: object, scope: str, exc: ClientAuthenticationError) -> EntraError:
    """DefaultAzureCredential says both "nothing configured" and "a credential failed" the same way; the
    chain stops at the first credential that failed, so fewer attempts than links means one did."""
    text = str(exc.message or exc)
    attempts = [line.strip() for line in text.splitlines() if line.startswith("\t")]
    chain = getattr(credential, "credentials", None)
    if attempts and chain is not None and len(attempts) >= len(chain):
        return _none_found(_first_line(exc))
    failed = attempts[-1] if attempts else _first_line(exc)
    return EntraError(f"Microsoft Entra ID gave no token for {scope}: {failed[:300]}", found=True)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line[:300]
