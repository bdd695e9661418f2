"""`/finetune digest <HH:MM> [timezone]` / `digest off` and `/finetune quiet <HH:MM>-<HH:MM> [timezone]` /
`quiet off`: the words, parsed into commands or refused in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.words import shown
from bot.schedule.times import DEFAULT_ZONE, DailyTime, QuietWindow, parse_clock, parse_zone


@dataclass(frozen=True)
class SetDigest:
    """`digest` alone shows the setting; None turns the digest off."""

    digest: DailyTime | None
    show: bool = False


@dataclass(frozen=True)
class SetQuiet:
    quiet: QuietWindow | None
    show: bool = False


class ScheduleWordsError(ValueError):
    """What is wrong with the words, for the person."""


def parse_digest(args: list[str], *, command: str) -> SetDigest:
    example = f"`{command} digest 09:00 Europe/Paris` (or `{command} digest off`)"
    if not args:
        return SetDigest(None, show=True)
    if len(args) == 1 and args[0].lower() in ("off", "stop", "none"):
        return SetDigest(None)
    at = parse_clock(args[0])
    if at is None:
        raise ScheduleWordsError(
            f"{shown(args[0])} isn't a time of day: use 24-hour `HH:MM`, e.g. {example}."
        )
    return SetDigest(DailyTime(at, _zone(args[1:], example, "digest")))


def parse_quiet(args: list[str], *, command: str) -> SetQuiet:
    example = f"`{command} quiet 22:00-07:00 Europe/Paris` (or `{command} quiet off`)"
    if not args:
        return SetQuiet(None, show=True)
    if len(args) == 1 and args[0].lower() in ("off", "stop", "none"):
        return SetQuiet(None)
    words = args
    if len(words) >= 3 and words[1] in ("-", "–", "to"):  # `22:00 - 07:00` reads just as well
        words = [f"{words[0]}-{words[2]}", *words[3:]]
    start_text, dash, end_text = words[0].replace("–", "-").partition("-")
    start, end = parse_clock(start_text), parse_clock(end_text)
    if not dash or start is None or end is None:
        raise ScheduleWordsError(
            f"{shown(words[0])} isn't a span of time: use `HH:MM-HH:MM` (24-hour), e.g. {example}."
        )
    if start == end:
        raise ScheduleWordsError(f"Quiet hours must start and end at different times, e.g. {example}.")
    return SetQuiet(QuietWindow(start, end, _zone(words[1:], example, "quiet")))


def _zone(rest: list[str], example: str, verb: str) -> str:
    if not rest:
        return DEFAULT_ZONE
    if len(rest) > 1:
        raise ScheduleWordsError(
            f"`{verb}` takes a time and one time zone; I don't know what to do with {shown(' '.join(rest[1:]))}."
        )
    zone = parse_zone(rest[0])
    if zone is None:
        raise ScheduleWordsError(
            f"I don't know the time zone {shown(rest[0])}: use an IANA name such as `Europe/Paris`, "
            f"`America/New_York` or `UTC`, e.g. {example}."
        )
    return zone
