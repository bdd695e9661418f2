"""Objects of the fine-tuning API, parsed the way real servers send them.

Parsing is tolerant: unknown fields are kept, `status` is an open string, `error: {}` means no error,
`result_files: null` means none, and `hyperparameters` may be missing.
"""

from __future__ import annotations

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


class JobError(_Lenient):
    code: str | None = None
    message: str | None = None
    param: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def is_empty(self) -> bool:
        return not (self.code or self.message)


class Hyperparameters(_Lenient):
    batch_size: int | str | None = None
    learning_rate_multiplier: float | str | None = None
    n_epochs: int | str | None = None
    beta: float | str | None = None


class FineTuningJob(_Lenient):
    id: str
    object: str = "fine_tuning.job"
    created_at: int
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
    integrations: list[dict[str, Any]] | None = None

    @field_validator("error", mode="after")
    @classmethod
    def _empty_error_is_none(cls, value: JobError | None) -> JobError | None:
        return None if value is None or value.is_empty else value

    @field_validator("result_files", mode="before")
    @classmethod
    def _null_files(cls, value: Any) -> Any:
        return [] if value is None else value

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
