"""`tuneops validate`: a corpus of good and bad training files, made here, through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.support.training_files import chat, dpo, good_chat_lines, jsonl


def _validate(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["validate", str(path), "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def _write(tmp_path: Path, lines: list[Any], name: str = "train.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(jsonl(lines))
    return path


def _kinds(report: dict[str, Any]) -> dict[str, list[int | None]]:
    return {p["kind"]: [f["line"] for f in p["first"]] for p in report["problems"]}


def test_a_good_file_is_trainable_with_exact_counts_and_a_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, good_chat_lines(40))
    code, report = _validate(capsys, path, "--model", "gpt-4o-mini-2024-07-18", "--epochs", "3")

    assert code == 0
    assert report["trainable"] is True
    assert report["problems"] == []
    assert report["examples"] == 40
    assert report["messages"] == 80
    # Per example: 3 + (3 + "user" 1 + "question N" 3) + (3 + "assistant" 1 + "tiktoken is great!" 6);
    # o200k_base keeps digits apart from the space before them: "question", " ", "7".
    assert report["tokens"] == 40 * 20
    assert report["billed_tokens"] == 40 * 20 * 3
    assert report["estimated_usd"] == pytest.approx(40 * 20 * 3 * 3.00 / 1_000_000, abs=1e-4)


def test_the_text_report_says_what_a_person_needs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, good_chat_lines(40))
    assert main(["validate", str(path), "--model", "gpt-4.1-2025-04-14"]) == 0
    out = capsys.readouterr().out
    assert "train.jsonl: can be trained" in out
    assert "40 examples, 80 messages, 800 tokens" in out
    assert "× 3 epochs (auto) = 2,400 tokens" in out
    assert "$25.00 per 1M" in out


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        ("{not json", "not_json"),
        ("[1, 2]", "not_object"),
        ({"prompt": "x", "completion": "y"}, "missing_messages"),
        ({"messages": []}, "missing_messages"),
        ({**chat(0), "extra": 1}, "unknown_key"),
        (
            {
                "messages": [
                    {"role": "user", "content": "q", "mood": "x"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            "unknown_key",
        ),
        (
            {"messages": [{"role": "robot", "content": "q"}, {"role": "assistant", "content": "a"}]},
            "bad_role",
        ),
        ({"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}, "missing_content"),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "again"}]},
            "no_assistant",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a", "weight": 0.5},
                ]
            },
            "bad_weight",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "q", "weight": 1},
                    {"role": "assistant", "content": "a"},
                ]
            },
            "bad_weight",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
                        ],
                    },
                ]
            },
            "bad_tool_call",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                    {"role": "tool", "content": "42"},
                ]
            },
            "bad_tool_call",
        ),
        (
            {**chat(0), "tools": [{"type": "function", "function": {"description": "no name"}}]},
            "bad_tool_call",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "end<|endoftext|>"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            "special_token",
        ),
        (dpo(0), "wrong_method"),
    ],
)
def test_each_flaw_is_reported_with_its_line_and_stops_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Any, kind: str
) -> None:
    lines: list[Any] = good_chat_lines(12)
    lines.insert(4, bad)  # line 5
    code, report = _validate(capsys, _write(tmp_path, lines))

    assert code == 1
    assert report["trainable"] is False
    assert _kinds(report)[kind] == [5]


def test_tool_calls_in_the_right_shape_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
    }
    tooled = {
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "-3 C"},
            {"role": "assistant", "content": "Cold: -3 C.", "weight": 1},
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
    }
    code, report = _validate(capsys, _write(tmp_path, [tooled] * 1 + good_chat_lines(11)))
    assert (code, report["problems"]) == (0, [])


def test_many_flaws_of_one_kind_show_the_first_few_lines_and_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines: list[Any] = [*good_chat_lines(12), *(["oops"] * 30)]
    code, report = _validate(capsys, _write(tmp_path, lines))
    (problem,) = report["problems"]
    assert code == 1
    assert problem["kind"] == "not_json"
    assert problem["count"] == 30
    assert [f["line"] for f in problem["first"]] == [13, 14, 15, 16, 17]

    main(["validate", str(tmp_path / "train.jsonl")])
    assert "not valid JSON (30): line 13 (Expecting value at column 1)" in capsys.readouterr().out


def test_fewer_than_ten_examples_cannot_train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _validate(capsys, _write(tmp_path, good_chat_lines(9)))
    assert code == 1
    assert _kinds(report) == {"too_few_examples": [None]}


def test_duplicates_and_overlong_examples_warn_but_train(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_answer = "hello world " * 40_000  # 80,000 tokens: over 65,536
    lines = [*good_chat_lines(12), chat(0), chat(99, answer=long_answer)]
    code, report = _validate(capsys, _write(tmp_path, lines), "--epochs", "2")

    assert code == 0
    assert _kinds(report) == {"duplicate": [13], "too_long": [14]}
    # The long example is billed at the limit, not at its length.
    assert report["longest_example_tokens"] > 65_536
    assert report["billed_tokens_per_epoch"] == 13 * 20 + 65_536
    assert report["billed_tokens"] == 2 * (13 * 20 + 65_536)


def test_dpo_files_are_checked_as_dpo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = [dpo(n) for n in range(12)]
    code, report = _validate(capsys, _write(tmp_path, good), "--method", "dpo")
    assert (code, report["problems"]) == (0, [])
    # 3 + input (3 + "user" 1 + "question N" 3) + outputs (3 + "assistant" 1 + 2 or 6 tokens of text).
    assert report["tokens"] == 12 * (3 + 7 + 6 + 10)

    multi_turn = dpo(0)
    multi_turn["input"]["messages"] += [
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "b"},
    ]
    two_answers = dpo(1)
    two_answers["preferred_output"].append({"role": "assistant", "content": "more"})
    bad = [*good, multi_turn, two_answers, {"input": {"messages": []}}, chat(3)]
    code, report = _validate(capsys, _write(tmp_path, bad), "--method", "dpo")
    assert code == 1
    assert _kinds(report)["bad_dpo"][:3] == [13, 14, 15]
    assert _kinds(report)["wrong_method"] == [16]


def test_auto_epochs_follow_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for examples, epochs in [(12, 8), (40, 3), (10_000, 2)]:
        _, report = _validate(capsys, _write(tmp_path, good_chat_lines(examples)))
        assert (report["epochs"], report["epochs_auto"]) == (epochs, True)


def test_the_price_file_sets_the_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"my-base": 10.0}))
    monkeypatch.setenv("TUNEOPS_PRICES", str(prices))
    _, report = _validate(
        capsys, _write(tmp_path, good_chat_lines(40)), "--model", "my-base", "--epochs", "1"
    )
    assert report["usd_per_million_tokens"] == 10.0
    assert report["estimated_usd"] == pytest.approx(800 * 10.0 / 1_000_000, abs=1e-4)

    _, report = _validate(capsys, _write(tmp_path, good_chat_lines(40)), "--model", "unknown-base")
    assert report["estimated_usd"] is None


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.jsonl")]) == 2
    assert "is not a file" in capsys.readouterr().err
    path = _write(tmp_path, good_chat_lines(12))
    for bad in (["--epochs", "zero"], ["--epochs", "0"], ["--method", "rft"]):
        with pytest.raises(SystemExit) as exited:
            main(["validate", str(path), *bad])
        assert exited.value.code == 2


def test_the_console_script_answers_with_its_exit_code(tmp_path: Path) -> None:
    good = _write(tmp_path, good_chat_lines(12), "good.jsonl")
    bad = _write(tmp_path, ["nope"], "bad.jsonl")
    env = {**os.environ, "TUNEOPS_PRICES": ""}
    for path, expected in ((good, 0), (bad, 1)):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "validate", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == expected, done.stderr
        assert path.name in done.stdout
