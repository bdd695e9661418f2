"""A channel's subscriptions: which jobs, started anywhere, it follows, and which of their changes it is told.

A subscription is a filter on the API's job objects (`all`, a suffix prefix, a base model, metadata pairs)
plus `only`, the statuses whose changes the channel hears about. Several subscriptions of one channel may
match the same job: the channel still follows it once, and hears what any of them asks for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.finetune.models import KNOWN_ACTIVE_STATUSES, PARKED_STATUSES, TERMINAL_STATUSES, FineTuningJob
from bot.mrkdwn import code

KNOWN_STATUSES = tuple(sorted(TERMINAL_STATUSES | PARKED_STATUSES | KNOWN_ACTIVE_STATUSES))


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a subscription matches. `everything`: every job (`subscribe all`)."""

    everything: bool = False
    suffix: str | None = None  # the job's suffix starts with this
    model: str | None = None  # the base model, or a dated snapshot of it (`gpt-4o-mini` → `…-2024-07-18`)
    meta: tuple[tuple[str, str], ...] = ()  # every pair must be in the job's metadata
    only: frozenset[str] | None = field(default=None)  # statuses told; None: every change

    def matches(self, job: FineTuningJob) -> bool:
        if self.everything:
            return True
        if self.suffix is not None and not (job.suffix or "").startswith(self.suffix):
            return False
        if self.model is not None and not _same_model(job.model, self.model):
            return False
        metadata = job.metadata or {}
        return all(metadata.get(key) == value for key, value in self.meta)

    def describe(self) -> str:
        """The filter in the words the person typed (mrkdwn)."""
        parts = ["all"] if self.everything else []
        if self.suffix is not None:
            parts.append(f"suffix={self.suffix}")
        if self.model is not None:
            parts.append(f"model={self.model}")
        parts.extend(f"meta.{key}={value}" for key, value in self.meta)
        if self.only is not None:
            parts.append("only=" + ",".join(sorted(self.only)))
        return code(" ".join(parts))

    def to_json(self) -> str:
        return json.dumps(
            {
                "all": self.everything,
                "suffix": self.suffix,
                "model": self.model,
                "meta": [list(pair) for pair in self.meta],
                "only": sorted(self.only) if self.only is not None else None,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> JobFilter:
        raw = json.loads(text)
        only = raw.get("only")
        return cls(
            everything=bool(raw.get("all")),
            suffix=raw.get("suffix"),
            model=raw.get("model"),
            meta=tuple((str(key), str(value)) for key, value in raw.get("meta") or []),
            only=frozenset(str(status) for status in only) if only is not None else None,
        )


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: str
    user: str
    created_at: float
    filter: JobFilter

    def announces(self, job: FineTuningJob) -> bool:
        """A job matching the filter, created since the subscription (to the second the API gives)."""
        return job.created_at >= int(self.created_at) and self.filter.matches(job)


def _same_model(model: str, base: str) -> bool:
    return model == base or model.startswith(base + "-")


def told_statuses(subscriptions: Iterable[Subscription]) -> frozenset[str] | None:
    """What a channel hears of a job these subscriptions matched: every change (None) when any asks for
    all of them, otherwise the union of their `only`."""
    told: set[str] = set()
    for subscription in subscriptions:
        if subscription.filter.only is None:
            return None
        told |= subscription.filter.only
    return frozenset(told)


def by_channel(subscriptions: Iterable[Subscription], job: FineTuningJob) -> dict[str, list[Subscription]]:
    """The subscriptions announcing `job`, grouped by channel (oldest subscription first)."""
    found: dict[str, list[Subscription]] = {}
    for subscription in sorted(subscriptions, key=lambda s: (s.created_at, s.id)):
        if subscription.announces(job):
            found.setdefault(subscription.channel, []).append(subscription)
    return found
