"""Turning database rows into the typed records of the job domain, and values into columns."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from bot.jobs.observation_rules import StoredJob
from bot.jobs.records import (
    AuditEntry,
    Origin,
    OutboxItem,
    OutboxState,
    Progress,
    TrackedJob,
    Watch,
)
from bot.jobs.size_caps import capped

JOB_FIELDS = (
    "job_id",
    "provider",
    "owner_channel",
    "creator",
    "origin",
    "status",
    "status_seq",
    "model",
    "suffix",
    "last_event_id",
    "last_event_at",
    "step",
    "total_steps",
    "train_loss",
    "valid_loss",
    "estimated_finish",
    "version",
    "next_poll_at",
    "stuck_noted_seq",
    "snapshot",
    "created_at",
    "updated_at",
)
WATCH_FIELDS = (
    "job_id",
    "channel",
    "added_by",
    "is_owner",
    "card_ts",
    "card_version",
    "card_updated_at",
    "created_at",
)
OUTBOX_FIELDS = (
    "id",
    "job_id",
    "channel",
    "transition",
    "kind",
    "payload",
    "state",
    "attempts",
    "next_attempt_at",
    "slack_ts",
    "last_error",
    "created_at",
)
AUDIT_FIELDS = ("at", "user_id", "channel", "action", "job_id", "allowed", "reason", "result")


def columns(fields: tuple[str, ...], *, table: str, prefix: str = "") -> str:
    """`j.job_id AS job_id, …` — a select list whose names the readers below know."""
    return ", ".join(f"{table}.{name} AS {prefix}{name}" for name in fields)


JOB_COLUMNS = columns(JOB_FIELDS, table="j")  # the `jobs j` columns `job_from_row` reads
WATCH_COLUMNS = columns(WATCH_FIELDS, table="w")  # the `watches w` columns `watch_from_row` reads


def encode_json(value: Mapping[str, object]) -> str:
    """The stored text of a snapshot or payload, within the size caps (a huge API field is cut)."""
    # Sorted keys: the same object always encodes to the same text.
    # default=str: a stray non-JSON value (a datetime in `details`) is kept as text rather than failing.
    return json.dumps(capped(value), sort_keys=True, separators=(",", ":"), default=str)


def decode_object(text: Any) -> dict[str, object]:
    if not isinstance(text, str | bytes):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# sqlite3.Row values are typed Any; these give them their column's type.
def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def job_from_row(row: sqlite3.Row, prefix: str = "") -> TrackedJob:
    def get(name: str) -> Any:
        return row[prefix + name]

    status_seq = int(get("status_seq"))
    return TrackedJob(
        job_id=_str(get("job_id")),
        provider=_str(get("provider")),
        owner_channel=_str(get("owner_channel")),
        creator=_opt_str(get("creator")),
        origin=Origin(_str(get("origin"))),
        status=_str(get("status")),
        status_seq=status_seq,
        model=_str(get("model")),
        suffix=_opt_str(get("suffix")),
        last_event_id=_opt_str(get("last_event_id")),
        last_event_at=_opt_float(get("last_event_at")),
        progress=Progress(
            step=_opt_int(get("step")),
            total_steps=_opt_int(get("total_steps")),
            train_loss=_opt_float(get("train_loss")),
            valid_loss=_opt_float(get("valid_loss")),
            estimated_finish=_opt_int(get("estimated_finish")),
        ),
        version=int(get("version")),
        next_poll_at=float(get("next_poll_at")),
        stuck_noted=_opt_int(get("stuck_noted_seq")) == status_seq,
        snapshot=decode_object(get("snapshot")),
        created_at=float(get("created_at")),
        updated_at=float(get("updated_at")),
    )


def stored_job_from_row(row: sqlite3.Row) -> StoredJob:
    """A row selected with `JOB_COLUMNS` plus its `read_at` and `final_read_due` columns."""
    return StoredJob(
        job=job_from_row(row),
        read_at=_opt_float(row["read_at"]),
        final_read_due=bool(row["final_read_due"]),
    )


def watch_from_row(row: sqlite3.Row, prefix: str = "") -> Watch:
    def get(name: str) -> Any:
        return row[prefix + name]

    return Watch(
        job_id=_str(get("job_id")),
        channel=_str(get("channel")),
        added_by=_opt_str(get("added_by")),
        is_owner=bool(get("is_owner")),
        card_ts=_opt_str(get("card_ts")),
        card_version=int(get("card_version")),
        card_updated_at=_opt_float(get("card_updated_at")),
        created_at=float(get("created_at")),
    )


def outbox_from_row(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        job_id=_str(row["job_id"]),
        channel=_str(row["channel"]),
        transition=_str(row["transition"]),
        kind=_str(row["kind"]),
        payload=decode_object(row["payload"]),
        state=OutboxState(_str(row["state"])),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        slack_ts=_opt_str(row["slack_ts"]),
        last_error=_opt_str(row["last_error"]),
        created_at=float(row["created_at"]),
    )


def audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        at=float(row["at"]),
        user=_str(row["user_id"]),
        channel=_str(row["channel"]),
        action=_str(row["action"]),
        job_id=_opt_str(row["job_id"]),
        allowed=bool(row["allowed"]),
        reason=_opt_str(row["reason"]),
        result=_opt_str(row["result"]),
    )
