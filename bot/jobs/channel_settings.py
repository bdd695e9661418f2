"""How a channel is told about its jobs (`/finetune settings`), and the rule that applies it to one note.

Defaults are what TuneOps always did: every change in the card's thread, the outcomes people act on
(succeeded, failed, cancelled, paused) also broadcast to the channel with a mention of the job's creator,
no direct messages, no progress notes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from bot.finetune.models import TERMINAL_STATUSES

OUTCOMES = frozenset({"succeeded", "failed", "cancelled", "paused"})
ThreadChoice = Literal["all", "outcomes"]
ProgressChoice = Literal["off", "25", "50"]
THREAD_CHOICES: dict[str, str] = {
    "all": "Every change",
    "outcomes": "Only outcomes (succeeded, failed, cancelled, paused)",
}
PROGRESS_CHOICES: dict[str, str] = {
    "off": "No progress notes",
    "25": "Every 25 %",
    "50": "At 50 %",
}
PROGRESS_MARKS = (25, 50, 75)  # percent of the training steps


def progress_choice(value: object) -> ProgressChoice:
    """A stored or submitted progress choice, "off" when it is not one."""
    match value:
        case "25" | "50":
            return value
        case _:
            return "off"


@dataclass(frozen=True)
class ChannelSettings:
    thread: ThreadChoice = "all"
    broadcast: frozenset[str] = OUTCOMES
    mention: bool = True
    dm_on_finish: bool = False
    progress: ProgressChoice = "off"

    def to_json(self) -> str:
        return json.dumps(
            {
                "thread": self.thread,
                "broadcast": sorted(self.broadcast),
                "mention": self.mention,
                "dm_on_finish": self.dm_on_finish,
                "progress": self.progress,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ChannelSettings:
        raw = json.loads(text)
        thread = raw.get("thread")
        return cls(
            thread="outcomes" if thread == "outcomes" else "all",
            broadcast=frozenset(str(s) for s in raw.get("broadcast") or []) & OUTCOMES,
            mention=bool(raw.get("mention", True)),
            dm_on_finish=bool(raw.get("dm_on_finish", False)),
            progress=progress_choice(raw.get("progress")),
        )

    def describe(self) -> str:
        """One line for `/finetune subscriptions`."""
        broadcast = ", ".join(sorted(self.broadcast)) or "nothing"
        return (
            f"Thread: {THREAD_CHOICES[self.thread].lower()} · broadcast: {broadcast} · "
            f"mention the creator: {'yes' if self.mention else 'no'} · "
            f"DM the creator on finish: {'yes' if self.dm_on_finish else 'no'} · "
            f"progress notes: {PROGRESS_CHOICES[self.progress].lower()}"
        )


@dataclass(frozen=True)
class Telling:
    """What the notifier does with one note in one channel."""

    post: bool  # a reply in the card's thread at all
    broadcast: bool  # also shown in the channel
    mention: bool  # name the job's creator in the outcome line
    dm_creator: bool  # and a direct message to the creator


SILENT = Telling(post=False, broadcast=False, mention=False, dm_creator=False)


def how_to_tell(kind: str, status: str, *, told: frozenset[str] | None, settings: ChannelSettings) -> Telling:
    """`told`: the statuses the channel's subscriptions ask for (None: every change, as for a job created
    or watched there). A status note outside them, or a change the channel's thread does not take, is
    not posted; the other notes are posted as the settings say."""
    if kind == "progress":  # queued only for channels whose settings ask for it
        return Telling(post=settings.progress != "off", broadcast=False, mention=False, dm_creator=False)
    if kind != "status":  # "looks stuck": a thread note, for channels that hear every change
        post = told is None and settings.thread == "all"
        return Telling(post=post, broadcast=False, mention=False, dm_creator=False)
    if told is not None and status not in told:
        return SILENT
    if settings.thread == "outcomes" and status not in OUTCOMES:
        return SILENT
    broadcast = status in settings.broadcast
    return Telling(
        post=True,
        broadcast=broadcast,
        mention=settings.mention and status in OUTCOMES,
        dm_creator=settings.dm_on_finish and status in TERMINAL_STATUSES,
    )


def crossed_marks(before: float | None, after: float | None) -> list[int]:
    """The progress marks a read moved the job past (fractions of its steps; None: not known yet)."""
    if after is None:
        return []
    start = before if before is not None else 0.0
    return [mark for mark in PROGRESS_MARKS if start * 100 < mark <= after * 100]


def choices_wanting(mark: int) -> tuple[ProgressChoice, ...]:
    """The progress settings whose channels are told about `mark`: every quarter, or the half-way mark."""
    return ("25", "50") if mark == 50 else ("25",)
