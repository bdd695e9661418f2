"""Checks a `POST /fine_tuning/jobs` body the way the real API does: the first problem → 400 naming `param`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator.errors import ApiError, bad_request, missing_parameter, unrecognized_argument
from bot.sandbox.emulator.flavour import Flavour

MAX_SEED = 2_147_483_647
METHODS = ("supervised", "dpo", "reinforcement")
AZURE_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
AZURE_TRAINING_TYPES = frozenset({"standard", "globalstandard", "developer"})
# Top-level fields of OpenAI's `CreateFineTuningJobRequest`; Azure adds `trainingType`.
CREATE_FIELDS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "seed",
        "metadata",
        "integrations",
        "hyperparameters",
        "method",
    }
)
AZURE_CREATE_FIELDS = CREATE_FIELDS | {"trainingType"}
# Emulator knobs read from metadata (they stay in the job's metadata, like any other key).
OUTCOME_KEY = "emulator_outcome"
STEPS_KEY = "emulator_total_steps"
# `overfit`: validation loss climbs from a fifth of the run on while training loss keeps falling.
CURVE_KEY = "emulator_curve"


@dataclass(frozen=True)
class JobRequest:
    model: str
    training_file: str
    validation_file: str | None
    suffix: str | None
    seed: int | None
    method_type: str
    hyperparameters: dict[str, Any]
    metadata: dict[str, str] | None
    integrations: list[Any] = field(default_factory=list)
    method_extra: dict[str, Any] = field(default_factory=dict)


def _invalid(param: str, message: str) -> ApiError:
    return bad_request(f"Invalid value for '{param}': {message}", param=param, code="invalid_value")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_hyperparameters(raw: Any, where: str, method: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _invalid(where, "expected an object.")
    allowed = {"n_epochs", "batch_size", "learning_rate_multiplier"}
    if method == "dpo":
        allowed.add("beta")
    if method == "reinforcement":
        allowed |= {"reasoning_effort", "compute_multiplier", "eval_interval", "eval_samples"}
    for key in raw:
        if key not in allowed:
            raise unrecognized_argument(f"{where}.{key}")
    for key, value in raw.items():
        param = f"{where}.{key}"
        if value == "auto" or key == "reasoning_effort":
            continue
        if key == "n_epochs" and not (_is_int(value) and 1 <= value <= 50):
            raise _invalid(param, "expected an integer from 1 to 50, or 'auto'.")
        if key == "batch_size" and not (_is_int(value) and 1 <= value <= 256):
            raise _invalid(param, "expected an integer from 1 to 256, or 'auto'.")
        if key == "learning_rate_multiplier" and not (_is_number(value) and value > 0):
            raise _invalid(param, "expected a number greater than 0, or 'auto'.")
        if key == "beta" and not (_is_number(value) and 0 < value <= 2):
            raise _invalid(param, "expected a number greater than 0 and at most 2, or 'auto'.")
        if key == "compute_multiplier" and not (_is_number(value) and 0.00001 < value <= 10):
            raise _invalid(param, "expected a number greater than 0.00001 and at most 10, or 'auto'.")
        if key in ("eval_interval", "eval_samples") and not (_is_int(value) and value >= 1):
            raise _invalid(param, "expected an integer of at least 1, or 'auto'.")
    return dict(raw)


def _check_metadata(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _invalid("metadata", "expected an object of string keys and values.")
    if len(raw) > 16:
        raise _invalid("metadata", "at most 16 key-value pairs are allowed.")
    for key, value in raw.items():
        if not 1 <= len(key) <= 64:
            raise _invalid("metadata", f"key '{key[:64]}' must be 1 to 64 characters.")
        if not isinstance(value, str) or len(value) > 512:
            raise _invalid("metadata", f"value of '{key}' must be a string of at most 512 characters.")
    if STEPS_KEY in raw and not (raw[STEPS_KEY].isdigit() and 1 <= int(raw[STEPS_KEY]) <= 100_000):
        raise _invalid("metadata", f"'{STEPS_KEY}' must be a whole number from 1 to 100000.")
    return dict(raw)


def _check_method(body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The method type, its hyperparameters and any other method settings (the RFT grader)."""
    method = body.get("method")
    legacy = _check_hyperparameters(body.get("hyperparameters"), "hyperparameters", "supervised")
    if method is None:
        return "supervised", legacy, {}
    if not isinstance(method, dict):
        raise _invalid("method", "expected an object.")
    method_type = method.get("type")
    if method_type not in METHODS:
        raise _invalid("method.type", f"expected one of {', '.join(METHODS)}.")
    settings = method.get(method_type) or {}
    if not isinstance(settings, dict):
        raise _invalid(f"method.{method_type}", "expected an object.")
    if legacy and settings.get("hyperparameters"):
        raise bad_request(
            "Do not pass both 'hyperparameters' and 'method'; put hyperparameters under 'method'.",
            param="hyperparameters",
        )
    hyper = (
        _check_hyperparameters(
            settings.get("hyperparameters"), f"method.{method_type}.hyperparameters", method_type
        )
        or legacy
    )
    if method_type == "reinforcement" and not isinstance(settings.get("grader"), dict):
        raise missing_parameter("method.reinforcement.grader")
    extra = {k: v for k, v in settings.items() if k != "hyperparameters"}
    return method_type, hyper, extra


def check_create_body(body: Any, flavour: Flavour) -> JobRequest:
    if not isinstance(body, dict):
        raise bad_request(
            "We could not parse the JSON body of your request. The API expects a JSON object as the body."
        )
    known = AZURE_CREATE_FIELDS if flavour == "azure" else CREATE_FIELDS
    for name in body:
        if name not in known:
            raise unrecognized_argument(str(name))
    model = body.get("model")
    if model is None or model == "":
        raise missing_parameter("model")
    if not isinstance(model, str):
        raise _invalid("model", "expected a string.")
    training_file = body.get("training_file")
    if training_file is None or training_file == "":
        raise missing_parameter("training_file")
    if not isinstance(training_file, str):
        raise _invalid("training_file", "expected a string.")
    validation_file = body.get("validation_file")
    if validation_file is not None and not isinstance(validation_file, str):
        raise _invalid("validation_file", "expected a string.")
    suffix = body.get("suffix")
    if suffix is not None:
        if not isinstance(suffix, str) or not 1 <= len(suffix) <= 64:
            raise _invalid("suffix", "expected a string of 1 to 64 characters.")
        if flavour == "azure" and not AZURE_SUFFIX.match(suffix):
            raise _invalid("suffix", "at most 40 characters of A-Z, a-z, 0-9, '-' and '_' are allowed.")
    seed = body.get("seed")
    if seed is not None and not (_is_int(seed) and 0 <= seed <= MAX_SEED):
        raise _invalid("seed", f"expected an integer from 0 to {MAX_SEED}.")
    metadata = _check_metadata(body.get("metadata"))
    integrations = body.get("integrations") or []
    if not isinstance(integrations, list) or len(integrations) > 5:
        raise _invalid("integrations", "expected a list of at most 5 integrations.")
    training_type = body.get("trainingType")
    if (
        flavour == "azure"
        and training_type is not None
        and (not isinstance(training_type, str) or training_type.lower() not in AZURE_TRAINING_TYPES)
    ):
        raise _invalid("trainingType", "expected Standard, GlobalStandard or Developer.")
    method_type, hyper, extra = _check_method(body)
    return JobRequest(
        model=model,
        training_file=training_file,
        validation_file=validation_file or None,
        suffix=suffix,
        seed=seed,
        method_type=method_type,
        hyperparameters=hyper,
        metadata=metadata,
        integrations=list(integrations),
        method_extra=extra,
    )
