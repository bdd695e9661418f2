"""Validate a JSONL training file in one streaming pass: line by line, never the whole file in memory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import tiktoken

from bot.jobs.prices import PriceTable
from bot.preflight import tokens
from bot.preflight.checks import ExampleChecker, Method
from bot.preflight.epochs import auto_epochs
from bot.preflight.model_facts import DEFAULT_MODEL, facts_for
from bot.preflight.problems import Findings, Kind
from bot.preflight.report import Report

MIN_EXAMPLES = 10
MAX_FILE_BYTES = 512 * 1024 * 1024
_READ_BUFFER = 1 << 20
_REMEMBERED_LENGTH = 300
_REMEMBERED_TEXTS = 20_000


@dataclass(frozen=True)
class Options:
    model: str = DEFAULT_MODEL
    epochs: int | None = None  # None: the API's automatic choice
    method: Method = "supervised"


def validate_path(path: Path, options: Options, prices: PriceTable) -> Report:
    with path.open("rb", buffering=_READ_BUFFER) as stream:
        return validate_stream(stream, options, prices, source=path.name)


def validate_stream(
    stream: BinaryIO | Iterable[bytes], options: Options, prices: PriceTable, *, source: str
) -> Report:
    facts = facts_for(options.model)
    encoding = tokens.encoding(facts.encoding)
    checker = ExampleChecker(options.method, _counter(encoding))
    findings = Findings()
    seen: dict[int, int] = {}  # hash of the line → the first line that had it
    size = examples = messages = total_tokens = billed = longest = 0
    for number, raw in enumerate(stream, start=1):
        size += len(raw)
        line = raw.strip()
        if not line:
            findings.add(Kind.BLANK_LINE, number, "remove it: every line must be one example")
            continue
        try:
            example = json.loads(line)
        except UnicodeDecodeError:
            findings.add(Kind.NOT_JSON, number, "not UTF-8 text")
            continue
        except ValueError as exc:
            findings.add(Kind.NOT_JSON, number, _json_error(exc))
            continue
        if not isinstance(example, dict):
            findings.add(Kind.NOT_OBJECT, number, f"a JSON {type(example).__name__}, not an object")
            continue
        examples += 1
        checked = checker.check(example)
        for kind, detail in checked.problems:
            findings.add(kind, number, detail)
        messages += checked.messages
        total_tokens += checked.tokens
        longest = max(longest, checked.tokens)
        if checked.tokens > facts.example_limit:
            findings.add(Kind.TOO_LONG, number, f"{checked.tokens:,} tokens")
        billed += min(checked.tokens, facts.example_limit)
        key = hash(line)
        first = seen.setdefault(key, number)
        if first != number:
            findings.add(Kind.DUPLICATE, number, f"same as line {first}")
    if examples < MIN_EXAMPLES:
        findings.add(Kind.TOO_FEW, None, f"{examples} example{'s' if examples != 1 else ''}; at least 10")
    if size > MAX_FILE_BYTES:
        findings.add(Kind.FILE_TOO_LARGE, None, f"{size / 1024 / 1024:,.0f} MB; the Files API takes 512 MB")
    epochs = options.epochs if options.epochs is not None else auto_epochs(examples)
    return Report(
        source=source,
        model=facts.model,
        model_known=facts.known,
        method=options.method,
        encoding=facts.encoding,
        size_bytes=size,
        examples=examples,
        messages=messages,
        tokens=total_tokens,
        longest_example=longest,
        example_limit=facts.example_limit,
        billed_tokens_per_epoch=billed,
        epochs=epochs,
        epochs_auto=options.epochs is None,
        usd_per_million=prices.per_million(facts.model),
        findings=tuple(findings.all()),
    )


def _counter(encoding: tiktoken.Encoding) -> Callable[[str], int]:
    """Token counts, remembered for short texts: roles and system prompts repeat on every line."""
    remembered: dict[str, int] = {}

    def count(text: str) -> int:
        if len(text) > _REMEMBERED_LENGTH:
            return len(encoding.encode_ordinary(text))
        found = remembered.get(text)
        if found is None:
            found = len(encoding.encode_ordinary(text))
            if len(remembered) < _REMEMBERED_TEXTS:
                remembered[text] = found
        return found

    return count


def _json_error(exc: ValueError) -> str:
    message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
    column = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
    return f"{message}{column}"
