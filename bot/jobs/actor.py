"""Who asked for something, and from which Slack channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A Slack user and the channel the request came from (a form's is the one it was opened in)."""

    user: str
    channel: str
