"""Small training files for the pre-flight tests, made on the spot: good ones and ones with one flaw each."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def chat(n: int, *, answer: str = "tiktoken is great!") -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": f"question {n}"}, {"role": "assistant", "content": answer}]
    }


def dpo(n: int) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": f"question {n}"}]},
        "preferred_output": [{"role": "assistant", "content": "hello world"}],
        "non_preferred_output": [{"role": "assistant", "content": "tiktoken is great!"}],
    }


def good_chat_lines(count: int = 12) -> list[dict[str, Any]]:
    return [chat(n) for n in range(count)]


def jsonl(lines: Iterable[dict[str, Any] | str]) -> bytes:
    """One line per item; a str is written as it is (to make broken lines)."""
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines).encode()
