"""Turn HTTP failures into the exceptions of `errors.py`, keeping the server's own words.

Error bodies are parsed loosely: `{"error": {...}}` with every field optional, Azure's `code`
possibly a number, and bodies that are not JSON at all (proxies, gateways). Messages never contain headers,
so the API key cannot leak through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from bot.finetune.errors import APIConnectionError, APIStatusError, APITimeoutError, error_class_for
from bot.finetune.models import ErrorBody
from bot.finetune.retry import never_sent

REQUEST_ID_HEADERS = ("x-request-id", "apim-request-id")


def request_id(headers: Mapping[str, str]) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _error_body(response: httpx.Response) -> ErrorBody | None:
    try:
        payload: Any = response.json()
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    inner = payload.get("error", payload)
    if isinstance(inner, str):
        inner = {"message": inner}
    if not isinstance(inner, dict):
        return None
    try:
        return ErrorBody.model_validate(inner)
    except ValidationError:
        # A field of an unexpected type: keep what can be read as text.
        return ErrorBody.model_validate(
            {key: str(value) for key, value in inner.items() if isinstance(value, str | int | float)}
        )


def status_error(response: httpx.Response) -> APIStatusError:
    """The exception for a non-2xx response: its class follows the status, its text is the server's message."""
    body = _error_body(response)
    status = response.status_code
    message = body.message if body and body.message else None
    if not message:
        reason = response.reason_phrase or "error"
        message = f"the fine-tuning API answered HTTP {status} {reason}".rstrip()
    return error_class_for(status)(
        message,
        status_code=status,
        code=body.code if body else None,
        param=body.param if body else None,
        type=body.type if body else None,
        request_id=request_id(response.headers),
    )


def connection_error(exc: httpx.TransportError, host: str) -> APIConnectionError:
    """A transport failure in plain words; only the host is named, never the request's headers."""
    sent = not never_sent(exc)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"the fine-tuning API at {host} did not answer in time ({type(exc).__name__})", request_sent=sent
        )
    if sent:
        return APIConnectionError(
            f"the connection to the fine-tuning API at {host} failed ({type(exc).__name__})",
            request_sent=True,
        )
    return APIConnectionError(
        f"could not reach the fine-tuning API at {host} ({type(exc).__name__})", request_sent=False
    )
