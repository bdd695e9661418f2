"""What `tuneops check` says about Microsoft Entra ID sign-in (Azure with no AZURE_OPENAI_API_KEY).

The token is asked for first, so the line names the credential that gave it (or why none did); then the
fine-tuning API's answer tells a refused token (401) from a missing role (403).
"""

from __future__ import annotations

from bot.finetune.entra import JOBS_ROLE, EntraError, EntraTokens, credential_name
from bot.finetune.errors import AuthenticationError, FineTuneError, PermissionDeniedError


async def entra_sign_in(tokens: EntraTokens) -> str:
    """`signed in with Microsoft Entra ID (<credential>)`; `EntraError` when no token came."""
    await tokens.token()
    return f"signed in with Microsoft Entra ID ({credential_name(tokens.credential)})"


def entra_fix(exc: FineTuneError) -> str | None:
    """How to fix an API refusal of an Entra ID token, or None when the refusal is about something else."""
    if isinstance(exc, AuthenticationError):
        return (
            "the Entra ID token was refused: check that the identity belongs to the tenant of the resource "
            "at AZURE_OPENAI_ENDPOINT and is enabled (or set AZURE_OPENAI_API_KEY)"
        )
    if isinstance(exc, PermissionDeniedError):
        return (
            f'the identity lacks a role on the resource: grant it "{JOBS_ROLE}" on the Azure OpenAI / '
            "AI Foundry resource (Access control (IAM) → Add role assignment); it can take a few minutes"
        )
    return None


def entra_setup_fix(exc: EntraError) -> str:
    if exc.found:
        return "the credential found could not sign in: see the message (or set AZURE_OPENAI_API_KEY)"
    return (
        "give this host an identity (a managed identity, a service principal in AZURE_CLIENT_ID/"
        "AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or `az login`), or set AZURE_OPENAI_API_KEY"
    )
