"""Error bodies as different servers and gateways send them, read loosely into the one hierarchy."""

from __future__ import annotations

import httpx
import pytest

from bot.finetune.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from bot.finetune.http_errors import connection_error, status_error

REQUEST = httpx.Request("GET", "https://res.openai.azure.com/openai/v1/fine_tuning/jobs")


def response(
    status: int, *, json: object = None, text: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=REQUEST)
    return httpx.Response(status, json=json, headers=headers, request=REQUEST)


def test_azure_numeric_code_and_apim_request_id() -> None:
    error = status_error(
        response(
            429,
            json={
                "error": {
                    "code": 429,
                    "message": "Requests have exceeded the rate limit.",
                    "inner_error": {"x": 1},
                }
            },
            headers={"apim-request-id": "apim-123"},
        )
    )

    assert isinstance(error, RateLimitError)
    assert error.code == "429"
    assert str(error) == "Requests have exceeded the rate limit."
    assert error.request_id == "apim-123"


def test_openai_body_with_param_and_type() -> None:
    error = status_error(
        response(
            422,
            json={
                "error": {"message": "bad", "type": "invalid_request_error", "param": "seed", "code": None}
            },
            headers={"x-request-id": "req_1"},
        )
    )

    assert isinstance(error, UnprocessableEntityError)
    assert (error.param, error.type, error.code, error.request_id) == (
        "seed",
        "invalid_request_error",
        None,
        "req_1",
    )


@pytest.mark.parametrize(
    ("status", "body", "expected_class", "expected_message"),
    [
        (
            502,
            "<html>Bad Gateway</html>",
            InternalServerError,
            "the fine-tuning API answered HTTP 502 Bad Gateway",
        ),
        (403, "", PermissionDeniedError, "the fine-tuning API answered HTTP 403 Forbidden"),
        (418, "[1, 2]", APIStatusError, "the fine-tuning API answered HTTP 418 I'm a teapot"),
    ],
)
def test_bodies_that_are_not_error_objects_still_say_the_status(
    status: int, body: str, expected_class: type[APIStatusError], expected_message: str
) -> None:
    error = status_error(response(status, text=body))

    assert type(error) is expected_class
    assert str(error) == expected_message
    assert error.status_code == status


def test_error_as_a_plain_string_and_odd_field_types() -> None:
    plain = status_error(response(400, json={"error": "model not supported"}))
    odd = status_error(response(400, json={"error": {"message": "m", "param": ["a"], "code": {"n": 1}}}))

    assert str(plain) == "model not supported"
    assert str(odd) == "m"
    assert odd.param is None


def test_transport_failures_name_the_host_only() -> None:
    refused = connection_error(httpx.ConnectError("refused", request=REQUEST), "res.openai.azure.com")
    slow = connection_error(httpx.ReadTimeout("slow", request=REQUEST), "res.openai.azure.com")

    assert type(refused) is APIConnectionError
    assert isinstance(slow, APITimeoutError)
    assert "res.openai.azure.com" in str(refused)
    assert "did not answer in time" in str(slow)
