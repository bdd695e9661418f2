"""The records of a channel's schedule and of the channel-level posts it makes (digests, summaries)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.schedule.times import DailyTime, QuietWindow


@dataclass(frozen=True)
class ChannelSchedule:
    channel: str
    digest: DailyTime | None
    # The digest tells what finished after this instant: when it was set up, then each digest's time.
    digest_since: float | None
    quiet: QuietWindow | None
    updated_by: str | None
    updated_at: float


class PostKind(StrEnum):
    DIGEST = "digest"
    QUIET_SUMMARY = "quiet_summary"
    SHUTDOWN_NOTICE = (
        "shutdown_notice"  # a model the channel's jobs made leaves the API (bot/jobs/retirements.py)
    )


@dataclass(frozen=True)
class ChannelPost:
    """A message for a channel as a whole, queued once under its `key` (`digest:2026-12-02`) and delivered
    by `bot.schedule.posts` exactly once: marked sent only once Slack says `ok`."""

    id: int
    channel: str
    key: str
    kind: PostKind
    payload: dict[str, object]
    attempts: int
    created_at: float


@dataclass(frozen=True)
class HeldNote:
    """A routine note kept back during quiet hours, to be folded into the summary at `until`."""

    outbox_id: int
    channel: str
    job_id: str
    transition: str
    payload: dict[str, object]
    until: float
