"""JSON shapes of the API objects (`FineTuningJob`, events, checkpoints, files, lists) as the servers send them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bot.sandbox.emulator.clock import EmulatorClock
from bot.sandbox.emulator.errors import bad_request
from bot.sandbox.emulator.flavour import ORGANIZATION_ID, Flavour
from bot.sandbox.emulator.ids import checkpoint_id, event_id
from bot.sandbox.emulator.lifecycle import Happening, Projection, checkpoint_model, metrics_at
from bot.sandbox.emulator.state import FileRecord, JobRecord

T = TypeVar("T")


def render_job(record: JobRecord, seen: Projection, clock: EmulatorClock, flavour: Flavour) -> dict[str, Any]:
    succeeded = seen.status == "succeeded"
    hyper = {k: record.hyperparameters[k] for k in ("batch_size", "learning_rate_multiplier", "n_epochs")}
    method_type = record.request.method_type
    method_settings: dict[str, Any] = {
        **record.request.method_extra,
        "hyperparameters": record.hyperparameters,
    }
    job: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": record.id,
        "model": record.request.model,
        "created_at": clock.unix_at(record.created_at),
        "finished_at": None if seen.finished_at is None else clock.unix_at(seen.finished_at),
        "fine_tuned_model": record.plan.fine_tuned_model if succeeded else None,
        # Azure has been seen answering null here.
        "organization_id": ORGANIZATION_ID if flavour == "openai" else None,
        "result_files": [record.results_file_id] if succeeded else [],
        "status": seen.status,
        "validation_file": record.request.validation_file,
        "training_file": record.request.training_file,
        "hyperparameters": hyper,
        "trained_tokens": record.plan.trained_tokens if succeeded else None,
        "integrations": record.request.integrations,
        "seed": record.seed,
        "estimated_finish": None if seen.estimated_finish is None else clock.unix_at(seen.estimated_finish),
        "method": {"type": method_type, method_type: method_settings},
        "metadata": record.request.metadata,
        "user_provided_suffix": record.request.suffix,
        "error": None if seen.error is None else seen.error.as_dict(),
    }
    job.update(record.odd_fields)
    return {key: value for key, value in job.items() if key not in record.dropped_fields}


def render_event(
    record: JobRecord, seq: int, happening: Happening, clock: EmulatorClock, flavour: Flavour
) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event",
        "id": event_id(record.id, seq, record.flavour),
        "created_at": clock.unix_at(happening.at),
        "level": happening.level,
        "message": happening.message,
        "type": happening.kind,
        "data": dict(happening.data),
    }


def render_checkpoint(record: JobRecord, happening: Happening, clock: EmulatorClock) -> dict[str, Any]:
    step = happening.checkpoint_step or 0
    return {
        "object": "fine_tuning.job.checkpoint",
        "id": checkpoint_id(record.id, step, record.flavour),
        "created_at": clock.unix_at(happening.at),
        "fine_tuned_model_checkpoint": checkpoint_model(record.plan, step, azure=record.flavour == "azure"),
        "step_number": step,
        "fine_tuning_job_id": record.id,
        "metrics": {"step": step, **metrics_at(record.plan, step)},
    }


def render_file(record: FileRecord, clock: EmulatorClock, flavour: Flavour) -> dict[str, Any]:
    waiting = "pending" if flavour == "azure" else "uploaded"
    status = "processed" if record.is_ready(clock.now()) else waiting
    body: dict[str, Any] = {
        "object": "file",
        "id": record.id,
        "purpose": record.purpose,
        "filename": record.filename,
        "bytes": record.bytes,
        "created_at": clock.unix_at(record.created_at),
        "status": status,
    }
    if record.expires_at is not None:
        body["expires_at"] = clock.unix_at(record.expires_at)
    return body


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(
            f"Invalid 'limit': expected an integer, but got '{raw[:40]}' instead.",
            param="limit",
            code="invalid_value",
        ) from None
    if limit < 1:
        raise bad_request(
            f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {limit} instead.",
            param="limit",
            code="integer_below_min_value",
        )
    if limit > maximum:
        raise bad_request(
            f"Invalid 'limit': integer above maximum value. Expected a value <= {maximum}, but got {limit} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    return limit


def page_after(
    items: Sequence[T], key: Callable[[T], str], after: str | None, limit: int
) -> tuple[list[T], bool]:
    """The page after the item whose id is `after` (the cursor), and whether more follow."""
    start = 0
    if after:
        for index, item in enumerate(items):
            if key(item) == after:
                start = index + 1
                break
        else:
            return [], False
    page = list(items[start : start + limit])
    return page, start + limit < len(items)
