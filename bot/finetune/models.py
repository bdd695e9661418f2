"""Objects of the fine-tuning API, parsed the way real servers send them.

Parsing is tolerant: unknown fields are kept, `status` is an open string, `error: {}` means no error,
`result_files: null` means none, and `hyperparameters` may be missing. A job is never unreadable for an odd
field: only `id` and `status` must be there; an error given as text is its message, a metadata value or a
name that is not text is kept as its JSON text, hyperparameters and integrations are kept as they came, and
a missing or odd number (`created_at`, `finished_at`, …) is read as unknown (0 for `created_at`).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
PARKED_STATUSES = frozenset({"paused"})
# Every other status — including ones no document lists yet — is active: keep watching it.
KNOWN_ACTIVE_STATUSES = frozenset(
    {"validating_files", "pending", "created", "queued", "running", "pausing", "resuming"}
)


class StatusGroup(StrEnum):
    ACTIVE = "active"
    PARKED = "parked"
    TERMINAL = "terminal"


def status_group(status: str) -> StatusGroup:
    if status in TERMINAL_STATUSES:
        return StatusGroup.TERMINAL
    if status in PARKED_STATUSES:
        return StatusGroup.PARKED
    return StatusGroup.ACTIVE


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _whole_number(value: Any) -> int | None:
    """A count or a Unix time as sent (`12`, `12.0`, `"12"`), or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == number and abs(number) != float("inf") else None


class JobError(_Lenient):
    code: str | None = None
    message: str | None = None
    param: str | None = None

    @field_validator("code", "message", "param", mode="before")
    @classmethod
    def _as_sent_text(cls, value: Any) -> str | None:
        return None if value is None else _as_text(value)

    @property
    def is_empty(self) -> bool:
        return not (self.code or self.message)


class Hyperparameters(_Lenient):
    """Kept as the API sent them (`"auto"`, a number, `3.5`, anything else): they are only shown."""

    batch_size: Any = None
    learning_rate_multiplier: Any = None
    n_epochs: Any = None
    beta: Any = None


class FineTuningJob(_Lenient):
    id: str
    object: str = "fine_tuning.job"
    created_at: int = 0
    status: str
    model: str = ""
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    organization_id: str | None = None
    error: JobError | None = None
    hyperparameters: Hyperparameters | None = None
    result_files: list[str] = Field(default_factory=list)
    trained_tokens: int | None = None
    training_file: str | None = None
    validation_file: str | None = None
    seed: int | None = None
    metadata: dict[str, str] | None = None
    user_provided_suffix: str | None = None
    method: dict[str, Any] | None = None
    integrations: list[Any] | None = None

    @field_validator("created_at", mode="before")
    @classmethod
    def _odd_created_at(cls, value: Any) -> int:
        return _whole_number(value) or 0

    @field_validator("finished_at", "estimated_finish", "trained_tokens", "seed", mode="before")
    @classmethod
    def _odd_number(cls, value: Any) -> int | None:
        return _whole_number(value)

    @field_validator(
        "fine_tuned_model",
        "organization_id",
        "training_file",
        "validation_file",
        "user_provided_suffix",
        mode="before",
    )
    @classmethod
    def _odd_text(cls, value: Any) -> str | None:
        return None if value is None else _as_text(value)

    @field_validator("model", mode="before")
    @classmethod
    def _odd_model(cls, value: Any) -> str:
        return "" if value is None else _as_text(value)

    @field_validator("error", mode="before")
    @classmethod
    def _error_as_sent(cls, value: Any) -> Any:
        if value is None or isinstance(value, dict):
            return value
        return {"message": _as_text(value)}  # `"error": "Out of quota"`: the text is the message

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_as_text(cls, value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            return {"metadata": _as_text(value)}
        return {str(key): _as_text(item) for key, item in value.items() if item is not None}

    @field_validator("hyperparameters", mode="before")
    @classmethod
    def _odd_hyperparameters(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, dict) else {"value": value}

    @field_validator("method", mode="before")
    @classmethod
    def _odd_method(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, dict) else {"type": _as_text(value)}

    @field_validator("integrations", mode="before")
    @classmethod
    def _odd_integrations(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, list) else [value]

    @field_validator("error", mode="after")
    @classmethod
    def _empty_error_is_none(cls, value: JobError | None) -> JobError | None:
        return None if value is None or value.is_empty else value

    @field_validator("result_files", mode="before")
    @classmethod
    def _null_files(cls, value: Any) -> Any:
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [_as_text(item) for item in items if item is not None]

    @field_validator("estimated_finish", mode="after")
    @classmethod
    def _zero_is_unknown(cls, value: int | None) -> int | None:
        return value or None

    @property
    def group(self) -> StatusGroup:
        return status_group(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.group is StatusGroup.TERMINAL

    @property
    def suffix(self) -> str | None:
        return self.user_provided_suffix

    @property
    def method_type(self) -> str:
        return str((self.method or {}).get("type") or "supervised")


class Metrics(_Lenient):
    """The `data` of a `metrics` event, or a checkpoint's `metrics`: every value optional."""

    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    full_valid_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_mean_token_accuracy: float | None = None


class JobEvent(_Lenient):
    id: str
    object: str = "fine_tuning.job.event"
    created_at: int
    level: str = "info"
    message: str = ""
    type: str | None = None
    data: dict[str, Any] | None = None

    @property
    def metrics(self) -> Metrics | None:
        if self.type != "metrics" or not self.data:
            return None
        return Metrics.model_validate(self.data)


class Checkpoint(_Lenient):
    id: str
    object: str = "fine_tuning.job.checkpoint"
    created_at: int
    fine_tuned_model_checkpoint: str | None = None
    step_number: int | None = None
    fine_tuning_job_id: str | None = None
    metrics: Metrics = Field(default_factory=Metrics)

    @field_validator("metrics", mode="before")
    @classmethod
    def _null_metrics(cls, value: Any) -> Any:
        return {} if value is None else value


class FileObject(_Lenient):
    id: str
    object: str = "file"
    bytes: int | None = None
    created_at: int = 0
    filename: str = ""
    purpose: str = ""
    status: str | None = None
    status_details: str | None = None
    expires_at: int | None = None


class ModelObject(_Lenient):
    """A model as `GET /models/{id}` describes it (only asked to learn whether it exists)."""

    id: str
    object: str = "model"
    owned_by: str | None = None
    # When the provider takes the model off its API: a date (`2027-01-14`) or unix seconds.
    shutdown_date: str | int | None = None


T = TypeVar("T", bound=BaseModel)


class Page(_Lenient, Generic[T]):
    object: str = "list"
    data: list[T] = Field(default_factory=list)
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _null_data(cls, value: Any) -> Any:
        return [] if value is None else value


class ErrorBody(_Lenient):
    """`{"error": {...}}` on both providers; Azure may send `code` as a number and adds `inner_error`."""

    message: str | None = None
    type: str | None = None
    param: str | None = None
    code: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value
