"""Secrets never leave the process: tokens, API keys and the configured secret values become `[redacted]`.

Used for every log line, every message to Slack and every audit row. Shapes catch keys we were never told
about (an API error echoing a key someone mistyped); exact values catch keys with no shape (Azure's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

REDACTED = "[redacted]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+"),  # Slack bot/user/refresh tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),  # Slack app-level tokens
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),  # OpenAI keys (sk-…, sk-proj-…, sk-svcacct-…)
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    # key=value / "key": "value" shapes for anything named like a credential
    re.compile(
        r"""(?ix)
        (?P<name>\b[\w-]*(?:api[_-]?key|token|secret|password|authorization))
        (?P<sep>["']?\s*[:=]\s*["']?)
        (?P<value>[^\s"',;}&]+)
        """
    ),
)

_known_secrets: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Redact these exact values wherever they appear (for keys with no recognisable shape, e.g. Azure's)."""
    _known_secrets.update(v for v in values if v and len(v) >= 6)


def redact(text: str) -> str:
    """`text` with every token, key and registered secret replaced by `[redacted]`."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if "value" in pattern.groupindex:
            text = pattern.sub(lambda m: m.group("name") + m.group("sep") + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def register_settings_secrets(settings: Settings) -> None:
    """Every secret the settings hold."""
    fields = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.openai_api_key,
        settings.azure_openai_api_key,
    )
    register_secrets(field.get_secret_value() for field in fields if field is not None)
    register_secrets(settings.webhook_secrets)
