"""The arguments of `subscribe`, `unsubscribe` and `audit`, read into typed values or a plain-words error.

subscribe [all] [suffix=<prefix>] [model=<base>] [meta.<key>=<value> …] [only=<status>,…]
unsubscribe <n|all>
audit [job-id] [n]   ·   audit all [n]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.finetune.spec import MAX_METADATA_PAIRS
from bot.jobs.subscriptions import KNOWN_STATUSES, JobFilter
from bot.jobs.words import is_int, shown, suggest

SUBSCRIBE_KEYS = ("suffix", "model", "only")
MAX_AUDIT = 50
DEFAULT_AUDIT = 10
_META_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ArgumentError(Exception):
    """Plain words for the person (mrkdwn)."""


@dataclass(frozen=True)
class AuditRequest:
    job_id: str | None
    limit: int
    everywhere: bool


def subscribe_filter(args: list[str], *, command: str) -> JobFilter:
    example = f"e.g. `{command} subscribe model=gpt-4o-mini meta.team=search only=failed,succeeded`"
    if not args:
        raise ArgumentError(
            f"Say which jobs: `all`, or any of `suffix=`, `model=`, `meta.<key>=` and `only=`; {example}."
        )
    everything = False
    values: dict[str, str] = {}
    meta: dict[str, str] = {}
    for arg in args:
        if arg.lower() == "all":
            everything = True
            continue
        key, sep, value = arg.partition("=")
        if not sep:
            raise ArgumentError(f"I don't know {shown(arg)} here; {example}.")
        if not value:
            raise ArgumentError(f"{shown(key + '=')} needs a value; {example}.")
        if key.startswith("meta."):
            name = key.removeprefix("meta.")
            if not _META_KEY.match(name):
                raise ArgumentError(f"{shown(key)} is not a metadata key I can match.")
            if name in meta:
                raise ArgumentError(f"{shown(key)} is given twice.")
            meta[name] = value
            continue
        lowered = key.lower()
        if lowered not in SUBSCRIBE_KEYS:
            message = f"`subscribe` doesn't take {shown(key)}."
            suggestion = suggest(lowered, SUBSCRIBE_KEYS)
            if suggestion:
                message += f" Did you mean `{suggestion}=`?"
            raise ArgumentError(f"{message} {example[0].upper()}{example[1:]}.")
        if lowered in values:
            raise ArgumentError(f"{shown(key)} is given twice.")
        values[lowered] = value
    if len(meta) > MAX_METADATA_PAIRS:
        raise ArgumentError(f"A job has at most {MAX_METADATA_PAIRS} metadata pairs; you gave {len(meta)}.")
    only = _statuses(values["only"]) if "only" in values else None
    if everything and (meta or "suffix" in values or "model" in values):
        raise ArgumentError("`all` already means every job: leave it out, or leave out the other filters.")
    if not everything and not meta and "suffix" not in values and "model" not in values:
        raise ArgumentError(
            f"Say which jobs as well: `all`, or `suffix=`, `model=` or `meta.<key>=`; {example}."
        )
    return JobFilter(
        everything=everything,
        suffix=values.get("suffix"),
        model=values.get("model"),
        meta=tuple(sorted(meta.items())),
        only=only,
    )


def _statuses(text: str) -> frozenset[str]:
    found: set[str] = set()
    for word in (part.strip().lower() for part in text.split(",")):
        if not word:
            continue
        if word not in KNOWN_STATUSES:
            message = f"{shown(word)} is not a job status."
            suggestion = suggest(word, KNOWN_STATUSES)
            if suggestion:
                message += f" Did you mean `{suggestion}`?"
            raise ArgumentError(f"{message} Statuses: {', '.join(f'`{s}`' for s in KNOWN_STATUSES)}.")
        found.add(word)
    if not found:
        raise ArgumentError("`only=` needs at least one status, e.g. `only=failed,succeeded`.")
    return frozenset(found)


def unsubscribe_which(args: list[str], *, command: str) -> int | None:
    """The subscription's number (1 = the oldest), or None for `all`."""
    example = (
        f"`{command} unsubscribe 2` or `{command} unsubscribe all` (`{command} subscriptions` numbers them)"
    )
    if len(args) != 1:
        raise ArgumentError(f"`unsubscribe` takes one number or `all`, e.g. {example}.")
    word = args[0].lower()
    if word == "all":
        return None
    if not is_int(word) or int(word) < 1:
        raise ArgumentError(f"{shown(args[0])} is not a subscription number; e.g. {example}.")
    return int(word)


def audit_request(args: list[str], *, command: str, looks_like_job_id: Callable[[str], bool]) -> AuditRequest:
    """`looks_like_job_id`: the grammar's own test of a job id (passed in: the grammar imports us)."""
    example = f"e.g. `{command} audit`, `{command} audit ftjob-abc123 20` or `{command} audit all`"
    job_id: str | None = None
    everywhere = False
    limit = DEFAULT_AUDIT
    rest = list(args)
    if rest and rest[0].lower() == "all":
        everywhere = True
        rest.pop(0)
    elif rest and looks_like_job_id(rest[0].strip("`*_")):
        job_id = rest.pop(0).strip("`*_")
    if rest:
        count = rest.pop(0)
        if not is_int(count) or not 1 <= int(count) <= MAX_AUDIT:
            raise ArgumentError(
                f"The number of entries must be a whole number from 1 to {MAX_AUDIT}, not {shown(count)}; "
                f"{example}."
            )
        limit = int(count)
    if rest:
        raise ArgumentError(f"I don't know what to do with {shown(' '.join(rest))}; {example}.")
    return AuditRequest(job_id=job_id, limit=limit, everywhere=everywhere)
