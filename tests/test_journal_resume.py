"""Kill-and-resume equivalence: a run SIGKILLed at seeded random instants, resumed each time, ends in the same
report and fills bytes as the run left alone. Every process is bounded (timeout); nothing sleeps."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.journal_support import (
    BUSY,
    FROZEN,
    MMEXEC,
    checkpoint_steps,
    kill_env,
    mmexec,
    outputs,
    plain_baseline,
    run_to_files,
    same_bytes,
)
from tests.replay_support import BTC

pytestmark = pytest.mark.skipif(MMEXEC is None, reason="mmexec is not installed: pip install -e .")
KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plain_baseline(tmp_path_factory.mktemp("baseline"))


def _copy_baseline(baseline: Path, tmp: Path) -> None:
    for name in ("plain.json", "plain.fills.jsonl"):
        (tmp / name).write_bytes((baseline / name).read_bytes())


def _resume(tmp: Path, journal: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_to_files(tmp, "resumed", "shadow", "--resume", str(journal), "--checkpoint-every", "2500", env=env)


def _killed_at_each_then_resumed(tmp: Path, journal: Path, run: tuple[str, ...], instants: list[int],
                                 resume: Callable[..., subprocess.CompletedProcess[bytes]]) -> None:
    """``run`` journaled and SIGKILLed at the first of ``instants`` (steps), resumed and killed at each of the
    others, then resumed to the end: the same report and fills bytes as the plain run, and complete."""
    first = run_to_files(tmp, "resumed", *run, "--state", str(journal), env=kill_env(f"step:{instants[0]}"))
    assert first.returncode == KILLED, first.stderr
    for step in instants[1:]:
        killed = resume(tmp, journal, kill_env(f"step:{step}"))
        assert killed.returncode == KILLED, (step, killed.stderr)
    final = resume(tmp, journal)
    assert final.returncode == 0, final.stderr
    same_bytes(tmp, "plain", "resumed")
    assert mmexec("shadow", "--resume", str(journal)).returncode == 2  # complete now


def test_journaled_run_writes_the_same_bytes_as_a_plain_run(baseline: Path, tmp_path: Path) -> None:
    _copy_baseline(baseline, tmp_path)
    result = run_to_files(tmp_path, "resumed", *BUSY, "--state", str(tmp_path / "j.db"))
    assert result.returncode == 0, result.stderr
    same_bytes(tmp_path, "plain", "resumed")


def test_twenty_sigkills_at_seeded_random_steps_then_resume(baseline: Path, tmp_path: Path) -> None:
    _copy_baseline(baseline, tmp_path)
    journal = tmp_path / "j.db"
    instants = sorted(random.Random(12).sample(range(1, 6000), 20))
    _killed_at_each_then_resumed(tmp_path, journal, BUSY, instants, _resume)


@pytest.mark.parametrize("point", ["checkpoint:1", "checkpoint:3", "commit:1", "commit:2"])
def test_kill_inside_a_checkpoint_or_batch_transaction(baseline: Path, tmp_path: Path, point: str) -> None:
    _copy_baseline(baseline, tmp_path)
    journal = tmp_path / "j.db"
    killed = run_to_files(tmp_path, "resumed", *BUSY, "--state", str(journal), env=kill_env(point))
    assert killed.returncode == KILLED
    final = _resume(tmp_path, journal)
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


def _start(journal: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMEXEC_")} | FROZEN
    return subprocess.Popen([MMEXEC or "mmexec", *BUSY, "--state", str(journal), "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _await_checkpoint(proc: subprocess.Popen[bytes], journal: Path) -> bool:
    """Poll the journal until it holds a checkpoint (True) or the process ended (False). The pacing wait is
    the child's own (``wait(timeout)``), bounded to 60 s in all."""
    for _ in range(6000):
        try:
            proc.wait(timeout=0.01)
            return False
        except subprocess.TimeoutExpired:
            pass
        if journal.exists():
            try:
                if checkpoint_steps(journal):
                    return True
            except sqlite3.Error:
                continue
    return False


def test_sigkill_from_outside_at_a_polled_instant(baseline: Path, tmp_path: Path) -> None:
    """A real external kill -9 once the journal shows a checkpoint."""
    _copy_baseline(baseline, tmp_path)
    journal = tmp_path / "j.db"
    proc = _start(journal, tmp_path / "x.json")
    try:
        _await_checkpoint(proc, journal)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    final = _resume(tmp_path, journal)
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


def test_torn_wal_is_recovered_to_its_last_whole_commit(baseline: Path, tmp_path: Path) -> None:
    _copy_baseline(baseline, tmp_path)
    journal = tmp_path / "j.db"
    killed = run_to_files(tmp_path, "resumed", *BUSY, "--state", str(journal), env=kill_env("step:2500"))
    assert killed.returncode == KILLED
    wal = journal.with_name(journal.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 10_000
    with wal.open("r+b") as handle:  # tear the last frames: cut mid-frame and scribble on the tail
        size = wal.stat().st_size
        handle.truncate(size - 3001)
        handle.seek(size - 9000)
        handle.write(b"\xff" * 2000)
    final = _resume(tmp_path, journal)
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


def test_a_journal_copied_after_a_crash_resumes_elsewhere(baseline: Path, tmp_path: Path) -> None:
    """Copy the database and its WAL of a crashed run (as a backup tool would), resume the copy elsewhere:
    same bytes as the original run."""
    _copy_baseline(baseline, tmp_path)
    journal = tmp_path / "j.db"
    killed = run_to_files(tmp_path, "resumed", *BUSY, "--state", str(journal), env=kill_env("step:3500"))
    assert killed.returncode == KILLED
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    for suffix in ("", "-wal"):
        source = journal.with_name(journal.name + suffix)
        (copy_dir / ("j.db" + suffix)).write_bytes(source.read_bytes())
    final = _resume(tmp_path, copy_dir / "j.db")
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


def test_a_journal_copied_while_its_run_is_writing(baseline: Path, tmp_path: Path) -> None:
    """Copy the database and its WAL while the writer is live (no lock travels with the copy); the copy
    resumes to the same bytes. The WAL's tail may be torn by the copy: SQLite drops the incomplete frames."""
    _copy_baseline(baseline, tmp_path)
    journal = tmp_path / "j.db"
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    proc = _start(journal, tmp_path / "x.json")
    try:
        assert _await_checkpoint(proc, journal), "the run ended before its first checkpoint"
        for suffix in ("", "-wal"):
            source = journal.with_name(journal.name + suffix)
            (copy_dir / ("j.db" + suffix)).write_bytes(source.read_bytes())
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0
    conn = sqlite3.connect(copy_dir / "j.db")
    complete = conn.execute("SELECT status FROM run").fetchone()[0] == "complete"  # the run raced to its end
    conn.close()
    final = run_to_files(tmp_path, "resumed", "shadow", "--resume", str(copy_dir / "j.db"),
                         *(["--force"] if complete else []))
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


# ---------------------------------------------------------------- replay runs
# The whole BTCUSDT capture (93,954 events, 3,441 quoting steps, about 1.3 s a run); the kill switch never trips
# (every markout is above -1000 bps), so orders and fills go on to the end. Checkpoints every 250 steps.
REPLAY = ("shadow", "--market", "replay", "--data", str(BTC), "--edge-threshold", "-1000")
REPLAY_EVERY = ("--checkpoint-every", "250")


@pytest.fixture(scope="module")
def replay_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("replay_baseline")
    result = run_to_files(tmp, "plain", *REPLAY)
    assert result.returncode == 0, result.stderr
    assert len((tmp / "plain.fills.jsonl").read_bytes().splitlines()) > 200  # a busy run
    return tmp


def _resume_replay(tmp: Path, journal: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_to_files(tmp, "resumed", "shadow", "--resume", str(journal), *REPLAY_EVERY, env=env)


def test_twenty_sigkills_replay_run(replay_baseline: Path, tmp_path: Path) -> None:
    """A replay SIGKILLed at 20 seeded random quoting steps, resumed each time: the same report and fills bytes."""
    _copy_baseline(replay_baseline, tmp_path)
    journal = tmp_path / "j.db"
    instants = sorted(random.Random(11).sample(range(1, 3441), 20))
    _killed_at_each_then_resumed(tmp_path, journal, (*REPLAY, *REPLAY_EVERY), instants, _resume_replay)


@pytest.mark.parametrize(("point", "kept"), [("step:100", 0), ("checkpoint:1", 0), ("checkpoint:7", 2),
                                             ("checkpoint:14", 2)])
def test_replay_killed_before_a_checkpoint_or_inside_one(replay_baseline: Path, tmp_path: Path, point: str,
                                                         kept: int) -> None:
    """Killed before the first checkpoint (the resume starts over), or inside the 1st, 7th or 14th (the final
    one, with the report) checkpoint transaction. (This replay writes only ~600 order event and fill rows, fewer
    than a batch transaction's 2,048: its rows reach the journal with the checkpoints.)"""
    _copy_baseline(replay_baseline, tmp_path)
    journal = tmp_path / "j.db"
    killed = run_to_files(tmp_path, "resumed", *REPLAY, *REPLAY_EVERY, "--state", str(journal), env=kill_env(point))
    assert killed.returncode == KILLED
    assert len(checkpoint_steps(journal)) == kept  # the killed transaction was rolled back
    final = _resume_replay(tmp_path, journal)
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


def test_replay_resumes_from_another_directory_with_a_relative_data_path(replay_baseline: Path,
                                                                        tmp_path: Path) -> None:
    """The journal keeps ``--data`` as given; the checkpoint keeps each file's absolute path to reopen it."""
    _copy_baseline(replay_baseline, tmp_path)
    shutil.copy(BTC, tmp_path / BTC.name)
    args = [BTC.name if a == str(BTC) else a for a in REPLAY]
    journal = tmp_path / "j.db"
    killed = run_to_files(tmp_path, "resumed", *args, *REPLAY_EVERY, "--state", str(journal),
                          env=kill_env("step:1800"))
    assert killed.returncode == KILLED
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out, fills = outputs(tmp_path, "resumed")
    final = mmexec("shadow", "--resume", str(journal), "--out", str(out), "--fills-out", str(fills), cwd=elsewhere)
    assert final.returncode == 0, final.stderr
    same_bytes(tmp_path, "plain", "resumed")


def test_replay_resume_refuses_a_changed_capture_and_another_data_flag(tmp_path: Path) -> None:
    capture = tmp_path / "btc.gz"
    shutil.copy(BTC, capture)
    journal = tmp_path / "j.db"
    args = [str(capture) if a == str(BTC) else a for a in REPLAY]
    killed = run_to_files(tmp_path, "resumed", *args, *REPLAY_EVERY, "--state", str(journal),
                          env=kill_env("step:600"))
    assert killed.returncode == KILLED
    before = checkpoint_steps(journal)

    other = mmexec("shadow", "--resume", str(journal), "--data", str(BTC))
    assert other.returncode == 2
    assert other.stderr.decode().strip().splitlines() == [
        f"error: differs from the journaled run: --data (a resumed run keeps its configuration) ({journal})"]
    assert mmexec("shadow", "--resume", str(journal), "--data", str(capture), "--show-config").returncode == 0

    content = bytearray(capture.read_bytes())
    content[-100] ^= 0xFF  # same size, other bytes
    capture.write_bytes(bytes(content))
    changed = run_to_files(tmp_path, "resumed", "shadow", "--resume", str(journal))
    assert changed.returncode == 2
    assert changed.stderr.decode().strip().splitlines() == [
        f"error: the capture changed since the journal was written ({capture})"]
    assert checkpoint_steps(journal) == before  # the journal is left as it was ...
    assert not outputs(tmp_path, "resumed")[0].exists()
    content[-100] ^= 0xFF
    capture.write_bytes(bytes(content))
    final = run_to_files(tmp_path, "resumed", "shadow", "--resume", str(journal))
    assert final.returncode == 0, final.stderr  # ... and resumes once the capture is back
