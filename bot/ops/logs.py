"""Logging: one line per event, plain text or JSON (`LOG_FORMAT=json`), never a secret.

Context such as the job id, the channel and the request id reaches every line logged inside
`with log_context(job_id=..., channel=...)` (a context variable, so it follows asyncio tasks), or a single
line through `logger.info("...", extra={"job_id": ...})`. A filter on the handler redacts anything that looks
like a Slack token, an API key or a bearer credential, plus the exact secret values the settings hold.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TextIO

from bot.ops.redaction import redact, register_secrets, register_settings_secrets

if TYPE_CHECKING:
    from bot.config import Settings


# Attributes every LogRecord has; anything else on a record came from `extra=` or our context filter.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

_CONTEXT: ContextVar[Mapping[str, object]] = ContextVar("tuneops_log_context", default={})  # noqa: B039


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add fields (job_id, channel, request_id, …) to every line logged inside the block. None is skipped."""
    merged = {**_CONTEXT.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> Mapping[str, object]:
    return dict(_CONTEXT.get())


class ContextFilter(logging.Filter):
    """Copies the `log_context` fields onto the record (fields given with `extra=` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RedactFilter(logging.Filter):
    """Renders the message, the extra fields and any traceback, and redacts them before any formatter runs."""

    _exc_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exc_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # the text above is what gets printed
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value))
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", <context and extra fields>, "exc"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, _jsonable(value))
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger>: <message> key=value …`, newlines folded so each event stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), f"{record.levelname:<7}", f"{record.name}:", record.getMessage()]
        parts += [f"{key}={value}" for key, value in extra_fields(record).items()]
        line = " ".join(str(part) for part in parts)
        if record.exc_text:
            line += " | " + record.exc_text
        return line.replace("\r", "").replace("\n", " | ")


def setup_logging(
    *,
    fmt: str = "text",
    level: str | int = "INFO",
    stream: TextIO | None = None,
    secrets: Iterable[str | None] = (),
) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler; return it."""
    register_secrets(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # Libraries that are chatty at INFO (every Socket Mode ping, every aiohttp access line) stay at WARNING.
    for noisy in ("aiohttp.access", "slack_sdk.socket_mode", "slack_bolt.AsyncApp", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def setup_logging_from_settings(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Logging as `LOG_FORMAT` / `LOG_LEVEL` say, with every configured secret registered for redaction."""
    register_settings_secrets(settings)
    return setup_logging(fmt=settings.log_format, level=settings.log_level, stream=stream)
