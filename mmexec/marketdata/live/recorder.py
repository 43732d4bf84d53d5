"""``CaptureRecorder``: received market-data messages as ``<recv_ns> <raw json>`` lines, the Bybit capture format.

One WebSocket message per line, prefixed by its receive time in ns (what ``--market replay`` reads). A name
ending in ``.gz`` is gzip-compressed. While recording, lines go to ``<name>.part`` next to the target, flushed
after the first line and then at least every ``flush_every_ms`` of receive time (a gzip stream is sync-flushed,
so what was flushed can be read back); :meth:`close` flushes, fsyncs and renames it to the target in one step,
so the target is either absent, its old self, or complete. A recorder killed outright leaves the ``.part`` file:
everything up to the last flush, possibly with a torn last line, which replay skips with a warning.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from pathlib import Path
from typing import BinaryIO

from mmexec.errors import ConfigError

_NS_PER_MS = 1_000_000


def check_output_path(path: str | os.PathLike[str], *, source: str = "--out") -> Path:
    """The target must be a file name in an existing, writable directory (checked before any work starts)."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ConfigError(f"{target} is a directory, expected a file name", source=source)
    if not directory.is_dir():
        raise ConfigError(f"directory {directory} does not exist", source=source)
    if not os.access(directory, os.W_OK):
        raise ConfigError(f"directory {directory} is not writable", source=source)
    return target


def one_line(text: str) -> str:
    """A message on one line. Line breaks can only be whitespace between JSON tokens, so spaces keep the JSON."""
    if "\n" in text or "\r" in text:
        return text.replace("\r", " ").replace("\n", " ")
    return text


class CaptureRecorder:
    """Append-only writer of one capture file; use as a context manager or call :meth:`close` / :meth:`abort`."""

    def __init__(self, path: str | os.PathLike[str], *, flush_every_ms: int = 1_000) -> None:
        self.path = check_output_path(path)
        self.part_path = self.path.with_name(self.path.name + ".part")
        self.lines = 0
        self.bytes = 0
        self._flush_every_ns = flush_every_ms * _NS_PER_MS
        self._last_flush_ns: int | None = None
        self._raw: BinaryIO = open(self.part_path, "wb")  # noqa: SIM115 - closed by close()/abort()
        self._out: BinaryIO = (gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                             compresslevel=6)  # type: ignore[assignment]
                               if self.path.name.endswith(".gz") else self._raw)
        self._closed = False

    def write(self, recv_ns: int, text: str) -> None:
        data = f"{recv_ns} {one_line(text)}\n".encode()
        self._out.write(data)
        self.lines += 1
        self.bytes += len(data)
        if self._last_flush_ns is None or recv_ns - self._last_flush_ns >= self._flush_every_ns:
            self.flush()  # the first line at once (the capture is visibly under way), then periodically
            self._last_flush_ns = recv_ns

    def flush(self) -> None:
        self._out.flush()  # for gzip: a sync flush, everything so far decodes
        if self._out is not self._raw:
            self._raw.flush()

    def close(self) -> Path:
        """Finish the file and move it into place; returns the target path."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self._out is not self._raw:
                self._out.close()  # writes the gzip trailer, leaves the raw file open
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.replace(self.part_path, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Discard the recording (an error before anything worth keeping)."""
        self._closed = True
        with contextlib.suppress(Exception):
            self._out.close()
        with contextlib.suppress(Exception):
            self._raw.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.part_path)

    def __enter__(self) -> CaptureRecorder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def resume_part(target: Path) -> Path:
    """The file a resumed live session records into instead of ``target``: ``STEM.resumed-N.EXT`` (``N`` the
    first number not used yet). A ``.part`` file a killed recorder left behind (of ``target`` or of an earlier
    part) is moved into place first when its target is absent: everything up to its last flush, which replay
    reads (a torn last line is skipped with a warning)."""
    stem, dot, ext = target.name.partition(".")

    def numbered(n: int) -> Path:
        return target.with_name(f"{stem}.resumed-{n}{dot}{ext}")

    def left_over(path: Path) -> Path:
        return path.with_name(path.name + ".part")

    earlier, n = [target], 1
    while numbered(n).exists() or left_over(numbered(n)).exists():
        earlier.append(numbered(n))
        n += 1
    for path in earlier:
        if left_over(path).exists() and not path.exists():
            left_over(path).replace(path)
    return numbered(n)
