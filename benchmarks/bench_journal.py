"""The cost of the state journal (a script, not a test: nothing here asserts a time).

    python benchmarks/bench_journal.py                 # 100,000 x 2 symbols, busy (about a minute)
    python benchmarks/bench_journal.py --iterations 20000 --json results.json

The busy synthetic workload (``--edge-threshold 0``: the kill switch never trips) runs through the CLI, each
run in a fresh process, alternately without and with ``--state`` (``--repeat`` times; the fastest counts).
Reported: wall time of each, their ratio (target <= 1.5), the journal's size (target <= 50 MB) and each
process's peak RSS (``ru_maxrss`` of that child), which stays flat: the journal buffers at most one batch of
events and one checkpoint blob in memory, and terminal orders live in the journal, not in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _mmexec() -> str:
    sibling = Path(sys.executable).with_name("mmexec")
    return str(sibling) if sibling.exists() else "mmexec"


def _run(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process (its own rusage, from ``wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen([_mmexec(), *args], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"mmexec failed ({proc.returncode}): {' '.join(args)}")
    return wall, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (the fastest counts; default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    ns = parser.parse_args()
    env = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}
    base = ["shadow", "--iterations", str(ns.iterations), "--edge-threshold", "0", "--no-progress"]
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "run.db"
        plain: list[tuple[float, int]] = []
        state: list[tuple[float, int]] = []
        for _ in range(ns.repeat):  # alternate, so a busy machine slows both alike
            plain.append(_run([*base, "--out", f"{tmp}/a.json", "--fills-out", f"{tmp}/a.jsonl"], env))
            for leftover in Path(tmp).glob("run.db*"):
                leftover.unlink()
            state.append(_run([*base, "--out", f"{tmp}/b.json", "--fills-out", f"{tmp}/b.jsonl",
                               "--state", str(journal)], env))
        (plain_s, plain_rss), (state_s, state_rss) = min(plain), min(state)
        same = (Path(tmp, "a.json").read_bytes() == Path(tmp, "b.json").read_bytes()
                and Path(tmp, "a.jsonl").read_bytes() == Path(tmp, "b.jsonl").read_bytes())
        size = sum(p.stat().st_size for p in Path(tmp).glob("run.db*"))
    figures = {
        "iterations": ns.iterations, "symbols": 2, "plain_s": round(plain_s, 2), "state_s": round(state_s, 2),
        "ratio": round(state_s / plain_s, 2), "journal_mb": round(size / 1e6, 1),
        "plain_peak_rss_mb": round(plain_rss / 1024, 1), "state_peak_rss_mb": round(state_rss / 1024, 1),
        "same_bytes": same, "python": platform.python_version(), "machine": platform.machine(),
    }
    print(json.dumps(figures, indent=2))
    if ns.json is not None:
        ns.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
