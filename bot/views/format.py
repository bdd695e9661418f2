"""Small text helpers every view shares: statuses, progress bars, times and numbers.

Times are shown twice: Slack's `<!date^…>` token renders them in each reader's own time zone, and its
fallback (after `|`) is UTC for clients that cannot.
"""

from __future__ import annotations

import math
import time

from bot.finetune.models import StatusGroup, status_group
from bot.mrkdwn import code

# One emoji and one phrase per status the API is known to send; anything else is shown as it comes.
STATUS_EMOJI: dict[str, str] = {
    "validating_files": "🔍",
    "created": "🆕",
    "pending": "🕓",
    "queued": "🕒",
    "running": "▶️",
    "pausing": "⏯️",
    "paused": "⏸️",
    "resuming": "⏯️",
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "🚫",
}
UNKNOWN_STATUS_EMOJI = "❔"
STATUS_WORDS: dict[str, str] = {
    "validating_files": "Validating files",
    "created": "Created",
    "pending": "Pending",
    "queued": "Queued",
    "running": "Running",
    "pausing": "Pausing",
    "paused": "Paused",
    "resuming": "Resuming",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
}

ELLIPSIS = "…"
BAR_WIDTH = 10


def truncate(text: str, limit: int) -> str:
    """Shorten `text` to at most `limit` characters, ending with "…" when it was cut.

    The cut never splits an escape (`&amp;`) or a Slack token (`<@U1>`, `<!date^…>`): a half token would
    show as garbage, so the cut moves back to before it.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: max(0, limit - len(ELLIPSIS))]
    opening = cut.rfind("<")
    if opening > cut.rfind(">"):
        cut = cut[:opening]
    ampersand = cut.rfind("&")
    if ampersand > cut.rfind(";") and len(cut) - ampersand < 6:
        cut = cut[:ampersand]
    return cut + ELLIPSIS


def status_emoji(status: str) -> str:
    return STATUS_EMOJI.get(status, UNKNOWN_STATUS_EMOJI)


def status_words(status: str) -> str:
    """ "Running" for a known status; an unknown one exactly as the API sent it."""
    return STATUS_WORDS.get(status, status)


def status_in_sentence(status: str) -> str:
    """A status inside a sentence: "is now paused" for a known one; an unknown one exactly as the API sent
    it, in code (`Quarantined_NEW` stays `Quarantined_NEW`)."""
    words = STATUS_WORDS.get(status)
    return words.lower() if words else code(status)


def status_text(status: str) -> str:
    """Emoji plus words, mrkdwn: unknown statuses appear verbatim in code so nobody mistakes them."""
    words = STATUS_WORDS.get(status)
    return f"{status_emoji(status)} {words if words else code(status)}"


def is_active(status: str) -> bool:
    return status_group(status) is StatusGroup.ACTIVE


def progress_bar(fraction: float) -> str:
    """`▓▓▓▓▓░░░░░ 52%`: ten cells, the percentage rounded down so 100% means really done."""
    fraction = max(0.0, min(1.0, fraction))
    filled = int(fraction * BAR_WIDTH + 1e-9)
    percent = math.floor(fraction * 100 + 1e-9)
    return "▓" * filled + "░" * (BAR_WIDTH - filled) + f" {percent}%"


def duration(seconds: float) -> str:
    """A span in words: "45 s", "12 min", "1 h 5 min", "2 d 3 h"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def relative(when: float, now: float) -> str:
    """ "in ~12 min" / "~3 min ago"; "any moment now" for the next half minute."""
    delta = when - now
    if abs(delta) < 30:
        return "any moment now" if delta >= 0 else "just now"
    return f"in ~{duration(delta)}" if delta > 0 else f"~{duration(-delta)} ago"


def utc_text(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))


def slack_date(when: float, token_format: str = "{date_short_pretty} at {time}") -> str:
    """Slack's date token: shown in the reader's time zone, with UTC as the fallback."""
    return f"<!date^{int(when)}^{token_format}|{utc_text(when)}>"


def slack_time(when: float) -> str:
    return slack_date(when, "{date_short} {time_secs}")


def number(value: int) -> str:
    return f"{value:,}"


def loss(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def percent(value: float) -> str:
    """Accuracies arrive as fractions (0.931) — shown as 93.1%."""
    return f"{value * 100:.1f}%" if value <= 1 else f"{value:.1f}%"


def mention(user: str | None) -> str | None:
    return f"<@{user}>" if user else None
