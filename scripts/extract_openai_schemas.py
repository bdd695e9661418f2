"""Copy the schemas the emulator is checked against out of the official OpenAI OpenAPI document.

The whole document is 3 MB; the tests need a handful of schemas and what they reference. Run it again when
the spec is updated:

    python scripts/extract_openai_schemas.py PATH/TO/openai-openapi.yaml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = (
    "FineTuningJob",
    "FineTuningJobEvent",
    "FineTuningJobCheckpoint",
    "ListPaginatedFineTuningJobsResponse",
    "ListFineTuningJobEventsResponse",
    "ListFineTuningJobCheckpointsResponse",
    "OpenAIFile",
    "ListFilesResponse",
    "DeleteFileResponse",
    "ErrorResponse",
)
PREFIX = "#/components/schemas/"
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "openai-openapi-schemas.json"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(PREFIX) :]} if str(node.get("$ref", "")).startswith(PREFIX) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def main(spec_path: str) -> None:
    with open(spec_path, "rb") as handle:
        spec = yaml.load(handle, Loader=yaml.CSafeLoader)
    schemas = spec["components"]["schemas"]
    wanted, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(_refs(schemas[name]) - wanted)
    document = {
        "source": "openai/openai-openapi openapi.yaml, components.schemas (closure of the roots)",
        "info_version": spec.get("info", {}).get("version"),
        "roots": list(ROOTS),
        "schemas": {name: schemas[name] for name in sorted(wanted)},
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(wanted)} schemas to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/extract_openai_schemas.py PATH/TO/openai-openapi.yaml")
    main(sys.argv[1])
