"""Helpers of the journal tests: the installed CLI as a subprocess, a busy run, journal inspection, a run
checkpointed in process and continued from its snapshot."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmexec.run.builder import Run
    from mmexec.run.spec import RunSpec

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


def plain_baseline(tmp: Path) -> Path:
    """``tmp`` holding ``plain.json`` and ``plain.fills.jsonl``: the busy run without a journal."""
    result = run_to_files(tmp, "plain", *PLAIN)
    assert result.returncode == 0, result.stderr
    return tmp


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


class StepHook:
    """A journal hook that snapshots ``run`` (with itself as the persistent ``hook``) after step ``at``."""

    def __init__(self, run: Run, at: int) -> None:
        self.run, self.at, self.step = run, at, 0
        self.blobs: list[bytes] = []

    def on_order_event(self, event: object) -> None: ...

    def on_fill(self, fill: object) -> None: ...

    def on_step(self, now_ms: int) -> None:
        from mmexec.journal.snapshot import dump_snapshot

        self.step += 1
        if self.step == self.at:
            self.blobs.append(dump_snapshot(self.run, {"hook": self}))


def continued_from_snapshot(spec: RunSpec, at: int, utc: str = FROZEN["MM_FREEZE_UTC_ISO"]) -> tuple[Run, Run, object]:
    """``spec`` run whole, and run again with a snapshot taken after step ``at``, restored with the restricted
    unpickler and continued to the end: ``(whole, restored, hook)`` (the hook the snapshot keeps by reference)."""
    from mmexec.journal.snapshot import load_snapshot
    from mmexec.run.builder import build_run

    whole = build_run(spec, utc=utc)
    whole.loop.run(whole.params())
    halted = build_run(spec, utc=utc)
    hook = StepHook(halted, at)
    halted.loop.journal_hooks.append(hook)
    halted.loop.run(halted.params())
    restored = load_snapshot(hook.blobs[0], {"hook": hook})
    restored.loop.run(restored.params(), source=restored.loop.market, start_step=at)
    return whole, restored, hook
