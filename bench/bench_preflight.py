"""Validation speed of `tuneops validate`: MB/s over a generated chat training file.

    python bench/bench_preflight.py [--mb 100] [--keep PATH]
    python bench/bench_preflight.py --quick          (a 5 MB smoke run)

Writes a JSONL file of varied chat examples (system, user and assistant turns of mixed lengths, some
tool calls, a few flaws and duplicates so every path is taken), then times the product's own
`validate_path` on it in this one process (one core), after the tokenizer is loaded (loading is timed
apart). Peak memory is the process's maximum resident size.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.prices import load_price_table
from bot.preflight import tokens
from bot.preflight.validate import Options, validate_path

WORDS = [
    "the",
    "model",
    "should",
    "answer",
    "briefly",
    "and",
    "politely",
    "when",
    "a",
    "customer",
    "asks",
    "about",
    "their",
    "order",
    "refund",
    "shipping",
    "invoice",
    "account",
    "password",
    "reset",
    "delivery",
    "date",
    "tracking",
    "number",
    "warranty",
    "return",
    "policy",
    "store",
    "hours",
    "Montréal",
    "Zürich",
    "東京",
    "données",
    "2024",
    "42",
    "3.14",
    "API",
    "JSON",
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _example(rng: random.Random, n: int) -> str:
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "You are a helpful support agent for Acme."}
    ]
    for _ in range(rng.randint(1, 3)):
        messages.append({"role": "user", "content": _sentence(rng, rng.randint(5, 60))})
        if rng.random() < 0.1:
            args = json.dumps({"order": n, "city": rng.choice(WORDS)})
            call = {"id": f"call_{n}", "type": "function", "function": {"name": "lookup", "arguments": args}}
            messages.append({"role": "assistant", "tool_calls": [call]})
            messages.append({"role": "tool", "tool_call_id": f"call_{n}", "content": _sentence(rng, 8)})
        messages.append({"role": "assistant", "content": _sentence(rng, rng.randint(10, 200))})
    return json.dumps({"messages": messages}, ensure_ascii=False)


def write_corpus(path: Path, megabytes: float, seed: int = 7) -> int:
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = lines = 0
    previous = ""
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            roll = rng.random()
            if roll < 0.001:
                line = "{broken"
            elif roll < 0.002 and previous:
                line = previous
            else:
                line = _example(rng, lines)
            out.write(line + "\n")
            written += len(line.encode()) + 1
            previous, lines = line, lines + 1
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="write the corpus here and keep it")
    args = parser.parse_args()
    megabytes = 5.0 if args.quick else args.mb

    started = time.perf_counter()
    tokens.encoding()
    print(f"tokenizer loaded in {time.perf_counter() - started:.2f} s (o200k_base, from the package)")

    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "corpus.jsonl"
        started = time.perf_counter()
        lines = write_corpus(path, megabytes)
        size = path.stat().st_size
        print(
            f"corpus: {size / 1e6:,.1f} MB, {lines:,} lines, written in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        report = validate_path(path, Options(model="gpt-4o-mini-2024-07-18"), load_price_table(None))
        elapsed = time.perf_counter() - started

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"validated in {elapsed:.2f} s: {size / 1e6 / elapsed:,.1f} MB/s, {lines / elapsed:,.0f} lines/s")
    print(
        f"report: {report.examples:,} examples, {report.messages:,} messages, {report.tokens:,} tokens, "
        f"{len(report.findings)} kinds of finding; peak RSS {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
