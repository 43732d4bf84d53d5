"""One writer per journal: an exclusive, non-blocking ``flock`` on the database file itself.

SQLite locks with POSIX record locks, which are independent of ``flock`` on Linux, so this lock does not
interfere with SQLite; it is released by the kernel when the process dies (``kill -9`` included), so a crashed
run never leaves a stale lock behind. A copy of the file carries no lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from mmexec.journal.schema import JournalError


class JournalLock:
    """Held while a process writes the journal; a second writer is refused with :class:`JournalError`."""

    __slots__ = ("_fd", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> JournalLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalError(f"cannot open the journal: {exc.strerror or exc}", source=str(self.path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError("journal is locked by another running mmexec process", source=str(self.path)) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> JournalLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def is_locked(path: Path) -> bool:
    """True if some process holds the journal's write lock."""
    try:
        with JournalLock(path):
            return False
    except JournalError:
        return True
