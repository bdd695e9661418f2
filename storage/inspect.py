"""Look at a database file without changing it: for `tuneops check`, which must not create or migrate."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from storage.migrations import MIGRATIONS


@dataclass(frozen=True)
class DatabaseState:
    path: Path
    exists: bool
    creatable: bool  # `tuneops run` can create the file (and any missing directories) here
    version: int | None  # the schema version applied to the file; None when it has none or can't be read
    latest: int  # the schema version this TuneOps migrates to
    problem: str | None  # why the file could not be read, if it couldn't

    @property
    def needs_migration(self) -> bool:
        return self.version is not None and self.version < self.latest

    @property
    def too_new(self) -> bool:
        return self.version is not None and self.version > self.latest


async def inspect_database(path: str | os.PathLike[str]) -> DatabaseState:
    return await asyncio.to_thread(_inspect, path)


def _inspect(given: str | os.PathLike[str]) -> DatabaseState:
    path = Path(given).expanduser()
    latest = MIGRATIONS[-1].version
    if not path.exists():
        return DatabaseState(path, False, _creatable(path), None, latest, None)
    try:
        # mode=ro: never creates, never writes; a WAL file is still read correctly.
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            has_versions = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            version = (
                int(db.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])
                if has_versions
                else 0
            )
    except sqlite3.Error as exc:
        return DatabaseState(path, True, False, None, latest, str(exc))
    return DatabaseState(path, True, os.access(path, os.W_OK), version, latest, None)


def _creatable(path: Path) -> bool:
    """True when the nearest existing ancestor directory is writable (run makes what is missing)."""
    for ancestor in path.resolve().parents:
        if ancestor.exists():
            return ancestor.is_dir() and os.access(ancestor, os.W_OK | os.X_OK)
    return False
