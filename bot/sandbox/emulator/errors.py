"""Errors the emulated API answers with, in each dialect's real body shape.

OpenAI: `{"error": {message, type, param, code}}`. Azure v1 (its spec's `AzureErrorResponse`):
`{"error": {code, message, param, type: "error", inner_error}}` where `code` is always a string, the HTTP status
as text (e.g. `"429"`) when there is no more specific code.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.flavour import Flavour


class ApiError(Exception):
    """Raised by handlers; the server middleware turns it into the JSON error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self, flavour: Flavour = "openai") -> dict[str, Any]:
        if flavour == "azure":
            return {
                "error": {
                    "code": self.code or str(self.status),
                    "message": self.message,
                    "param": self.param,
                    "type": "error",
                    # The OpenAI-style error type survives as the inner code, so nothing is lost.
                    "inner_error": {"code": self.type},
                }
            }
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing_parameter(name: str) -> ApiError:
    return bad_request(
        f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def invalid_state(job_id: str, status: str, action: str) -> ApiError:
    return bad_request(
        f"Job {job_id} is {status} and cannot be {action}.",
        param="fine_tuning_job_id",
        code="invalid_job_state",
    )


def job_not_found(job_id: str) -> ApiError:
    return ApiError(
        404,
        f"No fine-tuning job found with id '{job_id}'.",
        param="fine_tuning_job_id",
        code="fine_tune_not_found",
    )


def file_not_found(file_id: str) -> ApiError:
    return ApiError(404, f"No such File object: {file_id}", param="id", code=None)


def _masked(key: str) -> str:
    # Like the real API, never echo a key back whole.
    return f"{key[:3]}{'*' * 6}{key[-2:]}" if len(key) >= 10 else "*" * 6


def unauthorized(flavour: Flavour, presented: str | None) -> ApiError:
    if flavour == "azure":
        return ApiError(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
            "key for an active subscription and use a correct regional API endpoint for your resource.",
            code="401",
        )
    if not presented:
        message = (
            "You didn't provide an API key. You need to provide your API key in an Authorization header using "
            "Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        message = (
            f"Incorrect API key provided: {_masked(presented)}. You can find your API key in your settings."
        )
    return ApiError(401, message, code="invalid_api_key")


def unrecognized_argument(name: str) -> ApiError:
    return bad_request(f"Unrecognized request argument supplied: {name}", param=name)


def invalid_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})", code=None)
