"""Log lines: one per event, JSON on request, context fields attached, secrets never printed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import load_settings
from bot.ops.logs import log_context, setup_logging, setup_logging_from_settings
from bot.ops.redaction import redact


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _fail(message: str) -> None:
    raise ValueError(message)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


@pytest.mark.usefixtures("restore_root_logging")
def test_json_lines_carry_context_and_extra_fields() -> None:
    stream = io.StringIO()
    setup_logging(fmt="json", level="INFO", stream=stream)
    log = logging.getLogger("bot.watch.watcher")
    with log_context(job_id="ftjob-1", channel="C123"):
        log.info("status changed to %s", "running", extra={"request_id": "req_42"})
    log.info("outside")

    first, second = (json.loads(line) for line in _lines(stream))
    assert first["message"] == "status changed to running"
    assert first["level"] == "info"
    assert first["logger"] == "bot.watch.watcher"
    assert (first["job_id"], first["channel"], first["request_id"]) == ("ftjob-1", "C123", "req_42")
    assert first["ts"].endswith("Z")
    assert "job_id" not in second


@pytest.mark.usefixtures("restore_root_logging")
async def test_context_follows_asyncio_tasks() -> None:
    stream = io.StringIO()
    setup_logging(fmt="json", stream=stream)
    log = logging.getLogger("bot.notify.notifier")

    async def deliver(channel: str) -> None:
        with log_context(channel=channel):
            await asyncio.sleep(0)
            log.info("delivered")

    with log_context(job_id="ftjob-9"):
        await asyncio.gather(deliver("C1"), deliver("C2"))
    lines = [json.loads(line) for line in _lines(stream)]
    assert sorted((line["job_id"], line["channel"]) for line in lines) == [
        ("ftjob-9", "C1"),
        ("ftjob-9", "C2"),
    ]


@pytest.mark.usefixtures("restore_root_logging")
def test_tracebacks_stay_on_one_line_in_both_formats() -> None:
    for fmt in ("json", "text"):
        stream = io.StringIO()
        setup_logging(fmt=fmt, stream=stream)
        try:
            _fail("boom\nsecond line")
        except ValueError:
            logging.getLogger("bot").exception("delivery failed")
        lines = _lines(stream)
        assert len(lines) == 1, lines
        assert "ValueError: boom" in lines[0]
        if fmt == "json":
            assert "Traceback" in json.loads(lines[0])["exc"]


@pytest.mark.usefixtures("restore_root_logging")
def test_text_format_shows_context_as_key_values() -> None:
    stream = io.StringIO()
    setup_logging(fmt="text", stream=stream)
    with log_context(job_id="ftjob-2"):
        logging.getLogger("bot.cards").warning("card edit failed")
    (line,) = _lines(stream)
    assert "WARNING" in line
    assert "bot.cards: card edit failed" in line
    assert "job_id=ftjob-2" in line


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("posting with xoxb-1234-5678-abcdefABCDEF", "xoxb-1234-5678-abcdefABCDEF"),
        ("socket token xapp-1-A0B1-123-deadbeef", "xapp-1-A0B1-123-deadbeef"),
        ("key sk-proj-AbC123_def-456 refused", "sk-proj-AbC123_def-456"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ('{"api-key": "0123456789abcdef0123456789abcdef"}', "0123456789abcdef0123456789abcdef"),
        ("SLACK_SIGNING_SECRET=8f14e45fceea167a", "8f14e45fceea167a"),
    ],
)
def test_redact_hides_tokens_and_keys(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "[redacted]" in redact(text)


def test_redact_keeps_ordinary_figures() -> None:
    text = "trained_tokens=1234 job ftjob-abc request req_0123456789abcdef model gpt-4o-mini-2024-07-18"
    assert redact(text) == text


@pytest.mark.usefixtures("restore_root_logging")
def test_no_secret_reaches_the_output_whatever_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    azure_key = "f00dfeedcafe4242"  # Azure keys have no recognisable prefix: redacted because configured
    monkeypatch.setenv("TUNEOPS_PROVIDER", "azure")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", azure_key)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-99-secret-value")
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = io.StringIO()
    setup_logging_from_settings(load_settings(), stream=stream)
    log = logging.getLogger("bot.api")

    log.info("calling with key %s", azure_key)
    log.warning("token in extra", extra={"header": "Bearer xoxb-99-secret-value"})
    with log_context(request_id=f"key={azure_key}"):
        log.error("bad key %s", azure_key)
    try:
        _fail(f"upstream echoed {azure_key}")
    except ValueError:
        log.exception("failed")

    output = stream.getvalue()
    assert len(_lines(stream)) == 4
    assert azure_key not in output
    assert "xoxb-99-secret-value" not in output
    assert output.count("[redacted]") >= 5
