"""Output files (reports, fills files, the secrets file): written atomically, or not at all.

A target is either absent, its old self, or complete -- never half written:

- A **regular file** (or a path that does not exist yet) is written to a temp file in the same directory
  (``.<name>.<random>.tmp``), flushed, fsynced and renamed over the target. Any failure -- a full disk, a
  signal, an exception in the run -- deletes the temp file, even when closing it fails too.
- A **symlink** is written *through*: the file it points to is replaced atomically and the link stays.
- A **character device or FIFO** (``/dev/null``, ``/dev/stdout``, a named pipe) is written in place: never
  renamed over, so a device is never replaced by a regular file.
- Anything else (a directory, a socket, a block device) is refused.

New files get the mode ``0666 & ~umask`` (like a shell redirect: these are artefacts people share); an
existing file keeps its mode. Callers that need a private file (secrets) pass ``mode``.

Every ``OSError`` becomes an :class:`mmexec.errors.InputError` naming the file, e.g.
``cannot write report file: No space left on device (r.json)`` -- exit 2.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from mmexec.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ArtifactWriter:
    """Streams bytes to ``path`` as described in the module docstring; created before the work starts, so a
    bad target fails up front. :meth:`commit` finishes the file, :meth:`abort` drops it (``with`` does the
    one or the other)."""

    def __init__(self, path: str | os.PathLike[str], *, what: str = "output file", mode: int | None = None,
                 wrap_errors: bool = True) -> None:
        self.path = Path(path)
        self.what = what
        self._wrap = wrap_errors
        self._source = os.fspath(path)
        self._tmp: Path | None = None
        self._target = self.path
        self._handle: IO[bytes] | None = None
        try:
            self._open(mode)
        except OSError as exc:
            raise self._error(exc) from None

    def _open(self, mode: int | None) -> None:
        try:
            info: os.stat_result | None = os.stat(self.path)  # follows symlinks
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
                self._handle = open(self.path, "wb")  # noqa: SIM115 - closed by commit/abort
                return
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file, device or FIFO"
            if not self._wrap:
                raise IsADirectoryError(21, f"{self.path} is {kind}")
            raise InputError(f"cannot write {self.what}: the path is {kind}", source=self._source)
        # A symlink (even a dangling one) is written through: replace the file it points to.
        self._target = Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path
        directory = self._target.parent if str(self._target.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{self._target.name}.", suffix=".tmp", dir=directory)
        self._tmp = Path(tmp)
        try:
            if mode is None:
                mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
            os.fchmod(fd, mode)
            self._handle = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            self._remove_tmp()
            raise

    def _error(self, exc: OSError) -> Exception:
        if not self._wrap:
            return exc
        reason = exc.strerror or str(exc)
        return InputError(f"cannot write {self.what}: {reason}", source=self._source)

    @property
    def in_place(self) -> bool:
        """True when writing straight into a device or FIFO (no temp file, no rename)."""
        return self._tmp is None

    def write(self, data: bytes) -> None:
        if self._handle is None:
            raise ValueError(f"{self.what} writer is closed")
        try:
            self._handle.write(data)
        except OSError as exc:
            self.abort()
            raise self._error(exc) from None

    def commit(self) -> Path:
        """Finish: flush and fsync the temp file and rename it over the target (or flush the device)."""
        if self._handle is None:
            raise ValueError(f"{self.what} writer is closed")
        handle, self._handle = self._handle, None
        try:
            handle.flush()
            if self._tmp is not None:
                os.fsync(handle.fileno())
            handle.close()
            if self._tmp is not None:
                os.replace(self._tmp, self._target)
                self._tmp = None
        except BaseException as exc:
            with contextlib.suppress(OSError):
                handle.close()
            self._remove_tmp()
            if isinstance(exc, OSError):
                raise self._error(exc) from None
            raise
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; the target is left untouched. Never raises for a failed close."""
        handle, self._handle = self._handle, None
        try:
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()
        finally:
            self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
            self._tmp = None

    def __enter__(self) -> ArtifactWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def write_artifact(path: str | os.PathLike[str], data: bytes, *, what: str = "output file") -> Path:
    """Write ``data`` to ``path`` in one go (see :class:`ArtifactWriter`); errors are :class:`InputError`."""
    with ArtifactWriter(path, what=what) as writer:
        writer.write(data)
    return writer.path


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """:func:`write_artifact` for library callers that handle ``OSError`` themselves (the secrets file)."""
    with ArtifactWriter(path, mode=mode, wrap_errors=False) as writer:
        writer.write(data)
    return writer.path
