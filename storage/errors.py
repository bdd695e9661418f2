"""What storage raises when asked for something that cannot be done."""

from __future__ import annotations


class StorageError(Exception):
    """Base of the errors storage raises on purpose (SQLite's own errors pass through as they are)."""


class JobNotTrackedError(StorageError, LookupError):
    """The job is not tracked: track it first."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} is not tracked")
        self.job_id = job_id


class SchemaTooNewError(StorageError):
    """The database was migrated by a newer TuneOps than this one."""
