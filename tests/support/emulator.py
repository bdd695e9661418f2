"""Fixtures: a running fine-tuning API emulator and a client for its control endpoints."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.sandbox.emulator.control import EmulatorControl
from bot.sandbox.emulator.server import EmulatorServer


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    """A started emulator on an ephemeral port (key `sk-emulator`, speed 1: drive time with `advance`)."""
    server = EmulatorServer(api_key="sk-emulator", speed=1.0, seed=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def emulator_control(emulator: EmulatorServer) -> AsyncIterator[EmulatorControl]:
    control = EmulatorControl(emulator.url)
    try:
        yield control
    finally:
        await control.aclose()


# ---- the official OpenAPI schemas, to check what the emulator sends --------------------------------------

# The schemas the emulator answers with, copied from the official openai-openapi.yaml by
# scripts/extract_openai_schemas.py (the whole document is 3 MB). TUNEOPS_OPENAPI_SPEC may name a full
# openapi.yaml to check against instead.
SCHEMAS_FILE = Path(__file__).resolve().parents[1] / "data" / "openai-openapi-schemas.json"
# Real servers answer statuses beyond the documented six (a paused job): the job schema is widened for them.
EXTRA_STATUSES = ["paused", "pausing"]


class SpecSchemas:
    """Validates JSON against `#/components/schemas/<name>` of the OpenAI spec (OpenAPI 3.1)."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        schemas = dict(schemas)
        job = copy.deepcopy(schemas["FineTuningJob"])
        job["properties"]["status"]["enum"] = [*job["properties"]["status"]["enum"], *EXTRA_STATUSES]
        schemas["FineTuningJob"] = job
        # Azure: organization_id may be null; everything else as OpenAI.
        azure_job = copy.deepcopy(job)
        azure_job["properties"]["organization_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        schemas["AzureFineTuningJob"] = azure_job
        azure_list = copy.deepcopy(schemas["ListPaginatedFineTuningJobsResponse"])
        azure_list["properties"]["data"]["items"] = {"$ref": "#/components/schemas/AzureFineTuningJob"}
        schemas["AzureListPaginatedFineTuningJobsResponse"] = azure_list
        root = {"components": {"schemas": schemas}}
        resource = Resource.from_contents(root, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource("urn:openai-spec", resource)
        self.names = frozenset(schemas)

    def errors(self, name: str, instance: Any) -> list[str]:
        assert name in self.names, f"no schema {name!r} in the spec"
        validator = OAS31Validator(
            {"$ref": f"urn:openai-spec#/components/schemas/{name}"}, registry=self._registry
        )
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)
        ]


@pytest.fixture(scope="session")
def openai_spec_schemas() -> SpecSchemas:
    full_spec = os.environ.get("TUNEOPS_OPENAPI_SPEC")
    if full_spec:
        with open(full_spec, "rb") as handle:
            return SpecSchemas(yaml.load(handle, Loader=yaml.CSafeLoader)["components"]["schemas"])
    return SpecSchemas(json.loads(SCHEMAS_FILE.read_text())["schemas"])


@pytest.fixture
async def emulator_openai_http(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the emulator's OpenAI path (`/v1`) with the right Bearer key."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    async with httpx.AsyncClient(base_url=emulator.openai_base_url, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
async def emulator_azure_http(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the emulator's Azure path (`/openai/v1`) with the `api-key` header."""
    headers = {"api-key": emulator.api_key}
    async with httpx.AsyncClient(
        base_url=emulator.azure_endpoint + "/openai/v1", headers=headers, timeout=10
    ) as http:
        yield http
