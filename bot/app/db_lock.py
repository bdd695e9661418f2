"""One service process per SQLite file: two watchers and notifiers on one file would post twice.

The process that runs the background work holds an exclusive `flock` on `<database>.lock`, which the
kernel releases whenever the process ends, however it ends; the file names the holder's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    def __init__(self, database: Path, holder: str) -> None:
        self.database = database
        self.holder = holder
        who = f"pid {holder}" if holder else "another process"
        super().__init__(f"{database} is in use by another TuneOps process ({who})")


class DatabaseLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: str | Path) -> DatabaseLock:
        """Take the lock or raise `DatabaseInUse`; an `OSError` means the folder is not writable."""
        database = Path(database)
        path = database.with_name(database.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DatabaseInUse(database, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the lock
