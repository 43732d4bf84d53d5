"""A journal that cannot be used is one line on stderr, exit 2, and the file is left byte for byte as it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from mmexec.journal.lock import JournalLock
from tests.journal_support import MMEXEC, mmexec

pytestmark = pytest.mark.skipif(MMEXEC is None, reason="mmexec is not installed: pip install -e .")
SMALL = ("shadow", "--iterations", "300", "--edge-threshold", "0")


@pytest.fixture(scope="module")
def complete_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("journal")
    result = mmexec(*SMALL, "--state", str(tmp / "j.db"), "--out", str(tmp / "r.json"), cwd=tmp)
    assert result.returncode == 0, result.stderr
    return tmp / "j.db"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy(journal: Path, tmp: Path) -> Path:
    target = tmp / "copy.db"
    shutil.copyfile(journal, target)
    return target


def _refused(args: tuple[str, ...], path: Path, needle: str, tmp: Path) -> None:
    before = _digest(path)
    result = mmexec(*args, cwd=tmp)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
    assert b"Traceback" not in result.stderr
    assert _digest(path) == before


def _sql(path: Path, statement: str) -> None:
    """Run one statement on the journal at ``path`` and commit it."""
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def _mark_incomplete(path: Path) -> None:
    _sql(path, "UPDATE run SET status = 'running', report = NULL")


def test_non_sqlite_path(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"a": 1}\n')
    for args in (("shadow", "--resume", str(path)), ("orders", str(path)), ("fills", str(path)),
                 (*SMALL, "--state", str(path))):
        _refused(args, path, "not an SQLite database", tmp_path)


def test_journal_from_a_newer_mmexec(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    for args in (("shadow", "--resume", str(path)), ("orders", str(path)), ("report", "show", str(path))):
        _refused(args, path, "newer than this mmexec supports", tmp_path)


def test_truncated_journal(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    _refused(("shadow", "--resume", str(path)), path, "journal", tmp_path)
    _refused(("fills", str(path)), path, "journal", tmp_path)


def test_corrupt_journal(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):  # scribble on every page header after the first
        data[offset:offset + 8] = b"\xa5" * 8
    path.write_bytes(bytes(data))
    _refused(("shadow", "--resume", str(path)), path, "corrupt", tmp_path)


def test_sqlite_database_that_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    _sql(path, "CREATE TABLE t (x)")
    _refused(("shadow", "--resume", str(path)), path, "not an mmexec journal", tmp_path)


def test_locked_journal_refuses_a_second_writer(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    _mark_incomplete(path)
    with JournalLock(path):
        _refused(("shadow", "--resume", str(path)), path, "locked by another running mmexec process", tmp_path)


def test_complete_journal_needs_force(complete_journal: Path, tmp_path: Path) -> None:
    _refused(("shadow", "--resume", str(complete_journal)), complete_journal, "already complete", tmp_path)
    again = mmexec("shadow", "--resume", str(complete_journal), "--force", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout == (complete_journal.parent / "r.json").read_bytes()


def test_existing_journal_is_not_overwritten_by_state(complete_journal: Path, tmp_path: Path) -> None:
    _refused((*SMALL, "--state", str(complete_journal)), complete_journal, "--resume", tmp_path)


def test_resume_refuses_changed_run_flags_and_names_them(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    _mark_incomplete(path)
    _refused(("shadow", "--resume", str(path), "--seed", "7", "--max-inv", "5"), path, "--max-inv, --seed", tmp_path)
    _refused(("shadow", "--resume", str(path), "--config", "x.toml"), path, "--config", tmp_path)


def test_resume_accepts_equal_run_flags_and_free_output_flags(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    _mark_incomplete(path)
    _sql(path, "DELETE FROM checkpoints")
    result = mmexec("shadow", "--resume", str(path), "--iterations", "300", "--edge-threshold", "0.0",
                    "--out", str(tmp_path / "r.json"), "--no-progress", "--log-level", "error", cwd=tmp_path,
                    env={"MMEXEC_SHADOW__SEED": "5"})  # the environment is not consulted on resume
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.json").read_bytes() == (complete_journal.parent / "r.json").read_bytes()


def test_resume_with_another_run_command_is_refused(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    _mark_incomplete(path)
    _refused(("bybit-dryrun", "--resume", str(path)), path, "`mmexec shadow` run", tmp_path)


def test_state_with_the_bybit_venue_is_refused(tmp_path: Path) -> None:
    result = mmexec("bybit-dryrun", "--iterations", "5", "--state", str(tmp_path / "b.db"), cwd=tmp_path)
    assert result.returncode == 2
    assert b"fake" in result.stderr
    assert not (tmp_path / "b.db").exists()


def test_resume_needs_the_mmexec_version_that_wrote_the_checkpoints(complete_journal: Path, tmp_path: Path) -> None:
    path = _copy(complete_journal, tmp_path)
    _mark_incomplete(path)
    _sql(path, "UPDATE run SET mmexec_version = '0.0.1'")
    _refused(("shadow", "--resume", str(path)), path, "written by mmexec 0.0.1", tmp_path)


def test_state_in_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    result = mmexec(*SMALL, "--state", str(tmp_path / "no" / "such" / "j.db"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.decode().startswith("error: cannot open the journal")
