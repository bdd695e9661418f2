"""The few mrkdwn primitives both the job domain's sentences and the views need: escaping, code, bullets."""

from __future__ import annotations

MAX_BULLETS_SHOWN = 10


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Show a value (id, model name) as inline code; backticks inside would end the span early."""
    return "`" + escape(text.replace("`", "'")) + "`"


def bullet_list(items: list[str], *, limit: int = MAX_BULLETS_SHOWN) -> list[str]:
    """`• item` lines, at most `limit` of them, then "…and N more" for the rest: a long list must not push
    what follows it (the usage line) out of the message."""
    lines = [f"• {item}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"…and {len(items) - limit} more")
    return lines
