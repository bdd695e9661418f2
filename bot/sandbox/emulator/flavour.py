"""The two dialects the emulator speaks: OpenAI (`/v1`) and Azure AI Foundry v1 (`/openai/v1`)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

Flavour = Literal["openai", "azure"]
# Which dialect a request came in on, set by the server middleware.
FLAVOUR_KEY: web.RequestKey[Flavour] = web.RequestKey("flavour")

OPENAI_PREFIX = "/v1"
AZURE_PREFIX = "/openai/v1"
CONTROL_PREFIX = "/_emulator"

REQUEST_ID_HEADER: dict[Flavour, str] = {"openai": "x-request-id", "azure": "apim-request-id"}
ORGANIZATION_ID = "org-tuneopsemulator"
# Appears in OpenAI fine-tuned model names: ft:<base>:<organization slug>:<suffix>:<short id>.
ORGANIZATION_SLUG = "tuneops-emulator"
AZURE_API_VERSIONS = frozenset({"v1", "preview"})


def flavour_of_path(path: str) -> Flavour | None:
    if path == AZURE_PREFIX or path.startswith(AZURE_PREFIX + "/"):
        return "azure"
    if path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/"):
        return "openai"
    return None
