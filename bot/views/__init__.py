"""Block Kit views: pure functions from job data to Slack messages and modals (no I/O)."""

from __future__ import annotations

from bot.views.message import SlackMessage, fit

__all__ = ["SlackMessage", "fit"]
