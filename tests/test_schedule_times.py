"""Local times for digests and quiet hours, and the words of `digest` / `quiet` (no server needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.jobs.grammar import CommandError, parse_command
from bot.schedule.commands import SetDigest, SetQuiet
from bot.schedule.times import DailyTime, QuietWindow, parse_clock, parse_zone


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_clock_and_zone_words() -> None:
    assert parse_clock("9:05") == time(9, 5) and parse_clock("23:59") == time(23, 59)
    for bad in ("24:00", "9h30", "09:60", "", "nine"):
        assert parse_clock(bad) is None, bad
    assert parse_zone("utc") == "UTC" and parse_zone("Europe/Paris") == "Europe/Paris"
    for bad in ("Mars/Olympus", "../etc/passwd", "/etc/localtime", ""):
        assert parse_zone(bad) is None, bad


def test_a_daily_time_is_local_and_follows_daylight_saving() -> None:
    paris = DailyTime(time(9, 0), "Europe/Paris")
    # Winter: 09:00 in Paris is 08:00 UTC; summer: 07:00 UTC.
    assert paris.latest(at("2026-01-15T08:30:00+00:00")) == (
        date(2026, 1, 15),
        at("2026-01-15T08:00:00+00:00"),
    )
    assert paris.latest(at("2026-07-15T07:30:00+00:00")) == (
        date(2026, 7, 15),
        at("2026-07-15T07:00:00+00:00"),
    )
    # Before today's time: yesterday's is the latest.
    assert paris.latest(at("2026-01-15T07:00:00+00:00"))[0] == date(2026, 1, 14)
    assert paris.next_after(at("2026-01-15T08:00:00+00:00")) == at("2026-01-16T08:00:00+00:00")


def test_quiet_hours_over_midnight_and_within_a_day() -> None:
    night = QuietWindow(time(22, 0), time(7, 0), "UTC")
    assert night.period_at(at("2026-03-01T23:30:00+00:00")) == (
        at("2026-03-01T22:00:00+00:00"),
        at("2026-03-02T07:00:00+00:00"),
    )
    assert night.period_at(at("2026-03-02T06:59:00+00:00")) is not None
    assert night.period_at(at("2026-03-02T07:00:00+00:00")) is None
    assert night.period_at(at("2026-03-02T12:00:00+00:00")) is None
    lunch = QuietWindow(time(12, 0), time(13, 0), "America/New_York")
    assert lunch.period_at(datetime(2026, 3, 2, 17, 30, tzinfo=UTC).timestamp()) is not None
    assert lunch.period_at(datetime(2026, 3, 2, 12, 30, tzinfo=UTC).timestamp()) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest 9:30", SetDigest(DailyTime(time(9, 30), "UTC"))),
        ("DIGEST 18:00 Asia/Tokyo", SetDigest(DailyTime(time(18, 0), "Asia/Tokyo"))),
        ("digest off", SetDigest(None)),
        ("digest", SetDigest(None, show=True)),
        ("quiet 22:00-07:00", SetQuiet(QuietWindow(time(22, 0), time(7, 0), "UTC"))),
        ("quiet 22:00 – 07:00 Europe/Paris", SetQuiet(QuietWindow(time(22, 0), time(7, 0), "Europe/Paris"))),
        ("quiet 22:00 to 07:00", SetQuiet(QuietWindow(time(22, 0), time(7, 0), "UTC"))),
        ("quiet off", SetQuiet(None)),
    ],
)
def test_the_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("digest 25:00", "isn't a time of day"),
        ("digest 09:00 Europe/Paris extra", "one time zone"),
        ("quiet 22:00", "isn't a span of time"),
        ("quiet 22:00-22:00", "different times"),
        ("quiet 22:00-07:00 Nowhere/Land", "I don't know the time zone"),
    ],
)
def test_bad_words_are_refused_in_plain_words(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse_command(text)
    assert fragment in refused.value.message


def test_did_you_mean_knows_the_new_subcommands() -> None:
    with pytest.raises(CommandError) as refused:
        parse_command("digets 09:00")
    assert "Did you mean `digest`?" in refused.value.message
