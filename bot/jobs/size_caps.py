"""Bounds on what is kept of an API object: an answer with a 10 MB field must not be stored 10 MB at a time.

Job snapshots and outbox payloads are copies of what the API said. Long texts are cut with a marker that
says how much was left out, long lists and objects keep their first entries, deep nesting is folded; if the
whole is still too large, the texts are cut shorter. Nothing a card or a note shows comes near the caps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

MAX_TEXT = 4_000
MAX_ITEMS = 200
MAX_DEPTH = 10
MAX_STORED = 256_000  # characters of JSON for one stored object


def capped(value: Mapping[str, object]) -> dict[str, object]:
    """A copy of `value` within the caps; the same object when it already is (the usual case)."""
    result = _cap_mapping(value, MAX_TEXT, 0)
    text_cap = MAX_TEXT
    while text_cap > 50 and len(json.dumps(result, default=str)) > MAX_STORED:
        text_cap //= 4
        result = _cap_mapping(value, text_cap, 0)
    return result


def _cap(value: object, text_cap: int, depth: int) -> object:
    if isinstance(value, str):
        if len(value) <= text_cap:
            return value
        return f"{value[:text_cap]}… [{len(value) - text_cap} more characters]"
    if isinstance(value, Mapping):
        return _cap_mapping(value, text_cap, depth)
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            return f"[{len(value)} items]"
        items = [_cap(item, text_cap, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"… [{len(value) - MAX_ITEMS} more items]")
        return items
    return value


def _cap_mapping(value: Mapping[str, object], text_cap: int, depth: int) -> dict[str, object]:
    if depth >= MAX_DEPTH:
        return {"…": f"[{len(value)} fields]"}
    result: dict[str, object] = {}
    for index, (key, item) in enumerate(value.items()):
        if index == MAX_ITEMS:
            result["…"] = f"[{len(value) - MAX_ITEMS} more fields]"
            break
        result[str(key)[:text_cap]] = _cap(item, text_cap, depth + 1)
    return result
