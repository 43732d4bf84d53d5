"""Output files (mmexec.artifacts): atomic, never half written, devices written in place, modes like a shell."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from mmexec.artifacts import ArtifactWriter, write_artifact, write_atomic
from mmexec.cli.signals import exit_cleanly_on_termination
from mmexec.errors import InputError
from mmexec.fees.fills_io import FillsWriter


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_gets_0666_minus_umask(tmp_path: Path, umask_022: None) -> None:
    path = write_artifact(tmp_path / "r.json", b"{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.umask(0o027)
    assert stat.S_IMODE(write_artifact(tmp_path / "s.json", b"{}\n").stat().st_mode) == 0o640


def test_existing_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"old")
    path.chmod(0o664)
    write_artifact(path, b"new")
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == (b"new", 0o664)


def test_explicit_mode_wins_for_private_files(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "secrets.json"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_atomic(path, b"new", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_character_device_is_written_in_place_never_replaced() -> None:
    before = os.stat("/dev/null")
    with ArtifactWriter("/dev/null", what="report file") as writer:
        assert writer.in_place
        writer.write(b"x" * 10_000)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_symlink_to_a_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    write_artifact(link, b"{}\n")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader exists, so opening for writing won't block
    try:
        write_artifact(fifo, b"hello\n")
        assert os.read(reader, 100) == b"hello\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_symlink_to_a_regular_file_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "data" / "report.json"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_artifact(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(target.parent) == [] and leftovers(tmp_path) == []


def test_full_device_is_exit_2_no_space(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        write_artifact("/dev/full", b"x" * 100_000, what="report file")
    assert str(info.value) == "cannot write report file: No space left on device (/dev/full)"


@pytest.mark.parametrize("kind", ["directory", "socket"])
def test_other_non_regular_targets_are_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "target"
    if kind == "directory":
        path.mkdir()
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    with pytest.raises(InputError, match="cannot write report file: the path is"):
        ArtifactWriter(path, what="report file")
    assert leftovers(tmp_path) == []


def test_missing_directory_fails_up_front(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        ArtifactWriter(tmp_path / "nope" / "r.json", what="report file")
    assert str(info.value) == f"cannot write report file: No such file or directory ({tmp_path / 'nope' / 'r.json'})"


class _FullDisk:
    """Wraps a file object: every write / flush / close fails like a full disk."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def _fail(self, *args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    write = flush = close = _fail

    def fileno(self) -> int:
        return self.inner.fileno()  # type: ignore[attr-defined, no-any-return]


def test_full_disk_on_commit_leaves_no_temp_file_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"old")
    writer = ArtifactWriter(path, what="report file")
    writer._handle = _FullDisk(writer._handle)  # type: ignore[assignment]
    with pytest.raises(InputError, match="No space left on device"):
        writer.commit()
    assert leftovers(tmp_path) == [] and path.read_bytes() == b"old"


def test_fills_writer_abort_unlinks_even_when_close_fails(tmp_path: Path) -> None:
    writer = FillsWriter(tmp_path / "f.jsonl")
    out = writer._out
    real = out._handle
    out._handle = _FullDisk(real)  # type: ignore[assignment]
    writer.abort()  # must not raise
    assert real is not None and real.closed is False  # the failing wrapper did not close it...
    real.close()
    assert leftovers(tmp_path) == []  # ...but the temp file is gone anyway
    assert not (tmp_path / "f.jsonl").exists()


def test_write_error_mid_stream_is_input_error_and_cleans_up(tmp_path: Path) -> None:
    writer = ArtifactWriter(tmp_path / "r.json", what="fills file")
    writer._handle = _FullDisk(writer._handle)  # type: ignore[assignment]
    with pytest.raises(InputError, match=r"^cannot write fills file: No space left on device"):
        writer.write(b"x")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_clean_up_temp_files_and_exit_128_plus_n(
    tmp_path: Path, sig: signal.Signals, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    before = signal.getsignal(sig)
    with pytest.raises(typer.Exit) as info, exit_cleanly_on_termination():
        writer = FillsWriter(tmp_path / "f.jsonl")
        try:
            assert len(leftovers(tmp_path)) == 1
            os.kill(os.getpid(), sig)  # delivered to this (main) thread before the next bytecode
            raise AssertionError("the signal should have ended the block")
        except BaseException:
            writer.abort()
            raise
    assert info.value.exit_code == code
    assert leftovers(tmp_path) == []
    assert capsys.readouterr().err == f"error: terminated by {sig.name}\n"
    assert signal.getsignal(sig) == before  # the previous handler is back
