"""What storage raises when asked for something that cannot be done."""

from __future__ import annotations


class StorageError(Exception):
    """Base of the errors storage raises."""


class DatabaseUnavailable(StorageError):
    """The database failed a read or a write (read-only, full, locked for too long, gone): what callers
    catch, whatever engine is behind the store; the driver's own error is the cause."""


class JobNotTrackedError(StorageError, LookupError):
    """The job is not tracked: track it first."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} is not tracked")
        self.job_id = job_id


class SchemaTooNewError(StorageError):
    """The database was migrated by a newer TuneOps than this one."""
