"""One exception hierarchy for the fine-tuning API.

`str(error)` is safe to show a person: it carries the server's own message, never a credential.
"""

from __future__ import annotations


class FineTuneError(Exception):
    """Base of every error the fine-tuning client raises."""


class InvalidJobSpecError(FineTuneError):
    """The request was refused before sending; `problems` lists every one, as `(field, message)`."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


class APIConnectionError(FineTuneError):
    """The server could not be reached, or its answer was lost (after the retries allowed).

    `request_sent` is False only when the request certainly never left (the connection was never made):
    otherwise the server may have received it and acted — a create may have started a job."""

    def __init__(
        self, message: str = "could not reach the fine-tuning API", *, request_sent: bool = True
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    def __init__(
        self, message: str = "the fine-tuning API did not answer in time", *, request_sent: bool = True
    ) -> None:
        super().__init__(message, request_sent=request_sent)


class APIStatusError(FineTuneError):
    """The server answered with an HTTP error; fields come from its error body and headers."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.param = param
        self.type = type
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


class UnexpectedResponseError(FineTuneError):
    """The server answered 2xx with a body that is not the object the operation returns."""


class ResultsFormatError(FineTuneError):
    """A results file that is neither a CSV with a `step` column nor such a CSV base64-encoded."""
