"""Helpers of the journal tests: the installed CLI as a subprocess, a busy run, journal inspection."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

_SIBLING = Path(sys.executable).with_name("mmexec")
MMEXEC = str(_SIBLING) if _SIBLING.exists() else shutil.which("mmexec")
FROZEN = {"MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z", "PYTHONHASHSEED": "0"}
# A busy synthetic run: the kill switch never trips, orders and fills every step. PLAIN runs it without a
# journal; BUSY journals it (with --state) with checkpoints at steps 2500 and 5000, and the final one.
PLAIN = ("shadow", "--iterations", "6000", "--edge-threshold", "0", "--partial-fill-rate", "0.3")
BUSY = (*PLAIN, "--checkpoint-every", "2500")
TIMEOUT = 120  # seconds: every subprocess is bounded


Completed = subprocess.CompletedProcess[bytes]


def mmexec(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Completed:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MMEXEC_", "BYBIT_"))}
    full_env.update(FROZEN)
    full_env.update(env or {})
    return subprocess.run([MMEXEC or "mmexec", *args], capture_output=True, env=full_env, cwd=cwd, timeout=TIMEOUT,
                          check=False)


def outputs(tmp: Path, name: str) -> tuple[Path, Path]:
    return tmp / f"{name}.json", tmp / f"{name}.fills.jsonl"


def run_to_files(tmp: Path, name: str, *args: str, env: dict[str, str] | None = None) -> Completed:
    out, fills = outputs(tmp, name)
    return mmexec(*args, "--out", str(out), "--fills-out", str(fills), env=env, cwd=tmp)


def kill_env(point: str) -> dict[str, str]:
    return {"MMEXEC_TEST_KILL_AT": point}


def checkpoint_steps(journal: Path) -> list[int]:
    conn = sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT step FROM checkpoints ORDER BY id")]
    finally:
        conn.close()


def same_bytes(tmp: Path, a: str, b: str) -> None:
    (ra, fa), (rb, fb) = outputs(tmp, a), outputs(tmp, b)
    assert ra.read_bytes() == rb.read_bytes(), f"report of {b} differs from {a}"
    assert fa.read_bytes() == fb.read_bytes(), f"fills file of {b} differs from {a}"
