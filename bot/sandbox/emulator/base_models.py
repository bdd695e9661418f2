"""The models the emulator can fine-tune, `GET /models[/{id}]`, and the create checks the real API makes on
`model` and `suffix`.

The real API refuses a model it cannot fine-tune when the job is created (a 400 naming `model`), not by
failing the job later; and a suffix becomes part of the fine-tuned model's id, so only characters that can
sit in an id are taken. A fine-tuned model this emulator produced may be trained further, as on OpenAI.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.sandbox.emulator.errors import ApiError, bad_request
from bot.sandbox.emulator.flavour import FLAVOUR_KEY, Flavour
from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.validation import JobRequest

# Base models open to fine-tuning (dated snapshots and the names that point at them), per dialect.
OPENAI_BASE_MODELS = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-mini",
    "gpt-4o-2024-08-06",
    "gpt-4o",
    "gpt-4.1-2025-04-14",
    "gpt-4.1",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-mini",
    "gpt-4.1-nano-2025-04-14",
    "gpt-4.1-nano",
    "o4-mini-2025-04-16",
    "o4-mini",
    "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo",
    "babbage-002",
    "davinci-002",
)
AZURE_BASE_MODELS = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-2024-08-06",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
    "o4-mini-2025-04-16",
    "gpt-35-turbo-0125",
)
# Letters, digits, '-', '_' and '.': what a model id can carry (OpenAI separates its parts with ':').
SUFFIX_CHARACTERS = re.compile(r"^[A-Za-z0-9._-]+$")
MODEL_CREATED = 1_721_172_741  # a fixed creation time for the catalogue's models
# OpenAI's API drops these families (and the models fine-tuned on them) on this day.
RETIRING_FAMILIES = ("gpt-4o", "gpt-4.1")
SHUTDOWN_DATE = "2027-01-14"


def base_models(flavour: Flavour) -> tuple[str, ...]:
    return AZURE_BASE_MODELS if flavour == "azure" else OPENAI_BASE_MODELS


def _fine_tuned_models(state: EmulatorState) -> set[str]:
    return {
        record.plan.fine_tuned_model
        for record in state.jobs.values()
        if state.view(record, with_events=False).status == "succeeded"
    }


def can_fine_tune(model: str, flavour: Flavour, state: EmulatorState) -> bool:
    return model in base_models(flavour) or model in _fine_tuned_models(state)


def unknown_model(model: str, flavour: Flavour) -> ApiError:
    if flavour == "azure":
        return bad_request(
            f"The specified base model '{model[:100]}' does not support fine-tuning.", param="model"
        )
    return bad_request(
        f"Model {model[:100]} is not available for fine-tuning or does not exist.",
        param="model",
        code="model_not_available",
    )


def check_model_and_suffix(request: JobRequest, flavour: Flavour, state: EmulatorState) -> None:
    """Raise the 400 the real API answers a create with for a model it cannot train or an odd suffix."""
    if not can_fine_tune(request.model, flavour, state):
        raise unknown_model(request.model, flavour)
    suffix = request.suffix
    if suffix is not None and not SUFFIX_CHARACTERS.match(suffix):
        raise bad_request(
            "Invalid value for 'suffix': only letters, digits, '-', '_' and '.' are allowed.",
            param="suffix",
            code="invalid_value",
        )


def shutdown_date(model: str, flavour: Flavour) -> str | None:
    """When OpenAI takes the model off its API (the gpt-4o and gpt-4.1 families but nano, and the models
    fine-tuned on them), as `GET /models` says; Azure's catalogue names none."""
    if flavour == "azure":
        return None
    base = model.split(":")[1] if model.startswith("ft:") and model.count(":") >= 1 else model
    return SHUTDOWN_DATE if base.startswith(RETIRING_FAMILIES) and "nano" not in base else None


def _model_json(model: str, flavour: Flavour) -> dict[str, Any]:
    owner = "openai" if not model.startswith("ft:") else "user"
    body: dict[str, Any] = {"id": model, "object": "model", "created": MODEL_CREATED, "owned_by": owner}
    shutdown = shutdown_date(model, flavour)
    if shutdown is not None:
        body["shutdown_date"] = shutdown
    return body


class ModelHandlers:
    """`GET /models` and `GET /models/{model}`: the catalogue above and the models trained here."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def list_models(self, request: web.Request) -> web.Response:
        flavour: Flavour = request[FLAVOUR_KEY]
        names = [*base_models(flavour), *sorted(_fine_tuned_models(self.state))]
        return web.json_response({"object": "list", "data": [_model_json(name, flavour) for name in names]})

    async def retrieve_model(self, request: web.Request) -> web.Response:
        flavour: Flavour = request[FLAVOUR_KEY]
        model = request.match_info["model"]
        if not can_fine_tune(model, flavour, self.state):
            raise ApiError(
                404,
                f"The model '{model[:100]}' does not exist",
                param="model",
                code="model_not_found",
            )
        return web.json_response(_model_json(model, flavour))


# (method, path under the prefix, operationId, handler attribute of ModelHandlers)
MODEL_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/models", "listModels", "list_models"),
    ("GET", "/models/{model}", "retrieveModel", "retrieve_model"),
)
