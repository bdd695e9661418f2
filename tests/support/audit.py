"""Reading the audit log in tests, including entries about no job (`list`, `open_form`, a held-back form):
the store only reads entries per job, so this reads the bot's database file directly."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AuditRow:
    user: str
    channel: str
    action: str
    job_id: str | None
    allowed: bool
    result: str | None


def audit_rows(db_path: str | Path, *, channel: str | None = None) -> list[AuditRow]:
    """The audit entries (of `channel`, if given), oldest first."""
    query = "SELECT user_id, channel, action, job_id, allowed, result FROM audit_log"
    args: tuple[str, ...] = ()
    if channel is not None:
        query += " WHERE channel = ?"
        args = (channel,)
    with sqlite3.connect(db_path) as db:
        rows = db.execute(query + " ORDER BY id", args).fetchall()
    return [AuditRow(u, c, a, j, bool(ok), r) for u, c, a, j, ok, r in rows]
