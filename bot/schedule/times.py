"""Wall-clock times in a channel's time zone: a daily time (the digest) and a nightly window (quiet hours).

Times are kept as the person typed them (`HH:MM` and an IANA zone name) and turned into instants only
when asked, so a change of daylight saving time moves the instant, not the local time people expect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "UTC"
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ZONE_ALIASES = {"utc": "UTC", "gmt": "UTC", "z": "UTC"}


def parse_clock(text: str) -> time | None:
    """`9:30` or `09:30` → 09:30; anything else (`25:00`, `9h30`) → None."""
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(text: str) -> str | None:
    """The canonical name of an IANA time zone (`Europe/Paris`, `utc`), or None when there is none."""
    name = text.strip()
    if name.lower() in _ZONE_ALIASES:
        return _ZONE_ALIASES[name.lower()]
    if not name or ".." in name or name.startswith("/"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def clock_text(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def _instant(day: date, at: time, zone: ZoneInfo) -> float:
    return datetime.combine(day, at, tzinfo=zone).timestamp()


@dataclass(frozen=True)
class DailyTime:
    """Once a day at `at`, local time in `zone`."""

    at: time
    zone: str = DEFAULT_ZONE

    def latest(self, now: float) -> tuple[date, float]:
        """The most recent occurrence at or before `now`: its local date and its instant."""
        tz = ZoneInfo(self.zone)
        today = datetime.fromtimestamp(now, tz).date()
        for day in (today, today - timedelta(days=1)):
            instant = _instant(day, self.at, tz)
            if instant <= now:
                return day, instant
        day = today - timedelta(days=2)  # only reached around a time-zone jump
        return day, _instant(day, self.at, tz)

    def next_after(self, now: float) -> float:
        tz = ZoneInfo(self.zone)
        today = datetime.fromtimestamp(now, tz).date()
        for offset in range(3):
            instant = _instant(today + timedelta(days=offset), self.at, tz)
            if instant > now:
                return instant
        return now + 86_400.0

    def describe(self) -> str:
        return f"{clock_text(self.at)} ({self.zone})"


@dataclass(frozen=True)
class QuietWindow:
    """Every day from `start` to `end`, local time in `zone`; `end` before `start` runs over midnight."""

    start: time
    end: time
    zone: str = DEFAULT_ZONE

    def period_at(self, now: float) -> tuple[float, float] | None:
        """The quiet period `now` falls in, as (start, end) instants, or None outside quiet hours."""
        if self.start == self.end:
            return None
        tz = ZoneInfo(self.zone)
        today = datetime.fromtimestamp(now, tz).date()
        for day in (today, today - timedelta(days=1)):
            begins = _instant(day, self.start, tz)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            ends = _instant(end_day, self.end, tz)
            if begins <= now < ends:
                return begins, ends
        return None

    def describe(self) -> str:
        return f"{clock_text(self.start)}–{clock_text(self.end)} ({self.zone})"
