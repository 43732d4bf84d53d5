"""Time a 40-run synthetic sweep on 1 and 2 local workers, and the sweep's overhead per run.

    .venv/bin/python benchmarks/bench_sweep.py                    # 4 requote values × 10 seeds, 5000 iterations
    .venv/bin/python benchmarks/bench_sweep.py --iterations 1000 --repeat 3

- ``bare``: the 40 runs as plain :func:`mmexec.sweep.runner.run_one` calls in this process (the runs themselves).
- ``1 worker`` / ``2 workers``: :func:`mmexec.sweep.driver.run_sweep` end to end (result lines, metrics, report
  hashing, streaming to disk, the final sort; for 2 workers also starting the process pool).
- overhead per run: (1 worker - bare) / runs in CPU time (robust to other load), and ``execute`` + result
  streaming with the run itself replaced by a stored report (direct).
Targets (issue #15): 2 workers <= 0.6 × 1 worker; overhead <= 50 ms per run.
Best of ``--repeat`` for each figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mmexec.config.run import ShadowSettings
from mmexec.sweep.driver import run_sweep
from mmexec.sweep.executors import LocalExecutor
from mmexec.sweep.grid import SweepPlan, make_plan, parse_grid_option, parse_seeds
from mmexec.sweep.runner import run_one

UTC = "2025-01-01T00:00:00Z"


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_ceiling() -> float:
    """What two processes can gain on this machine right now: a pure CPU loop on a 2-process pool vs serially."""
    from multiprocessing import get_context

    work = [2_000_000] * 8
    start = time.perf_counter()
    for n in work:
        _burn(n)
    serial = time.perf_counter() - start
    with get_context("forkserver").Pool(2) as pool:
        pool.map(_burn, [1, 1])  # started
        start = time.perf_counter()
        pool.map(_burn, work, chunksize=1)
        parallel = time.perf_counter() - start
    return parallel / serial


def direct_overhead(plan: SweepPlan) -> None:
    """Everything a sweep does per run except the run: metrics, sha256, result line, streaming to disk."""
    from mmexec.sweep import runner
    from mmexec.sweep.driver import tasks_of
    from mmexec.sweep.results import ResultStore

    report = run_one(plan.points[0].settings, utc=UTC)
    real = runner.run_one
    runner.run_one = lambda *a, **k: report  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = ResultStore(Path(tmp) / "r.jsonl", "bench", resume=False)
            store.open()
            for task in tasks_of(plan, UTC, keep_reports=False, skip=set()):
                store.record(runner.execute(task))
            store.finalize()
    finally:
        runner.run_one = real


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    # Limits wide enough that the risk monitor never freezes quoting: every iteration quotes (a ~0.2 s run).
    flags = {"iterations": str(args.iterations), "edge_threshold": "-1000", "max_inv": "100000000",
             "max_total": "1000000000"}
    plan = make_plan(ShadowSettings, flags, [parse_grid_option("requote_bps=1,2,3,4")], parse_seeds("1..10"), [],
                     False)
    runs = len(plan.points)

    def bare() -> None:
        for point in plan.points:
            run_one(point.settings, utc=UTC)

    def sweep(workers: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run_sweep(plan, LocalExecutor(workers), Path(tmp) / "r.jsonl", utc=UTC)
            assert outcome.stored == runs and outcome.failed == 0

    def timed(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
        start = clock()
        fn()
        return clock() - start

    cpu = time.process_time  # CPU time of this process: what bare runs and a 1-worker sweep cost, whatever the load
    bare()  # warm-up: imports and the settings schema
    t_bare = t_one = t_two = c_bare = c_one = float("inf")
    for _ in range(args.repeat):  # interleaved, so that a busy moment of the machine hits all three alike
        t_bare = min(t_bare, timed(bare))
        c_bare = min(c_bare, timed(bare, cpu))
        t_one = min(t_one, timed(lambda: sweep(1)))
        c_one = min(c_one, timed(lambda: sweep(1), cpu))
        t_two = min(t_two, timed(lambda: sweep(2)))
    t_direct = min(timed(lambda: direct_overhead(plan)) for _ in range(args.repeat))
    tiny = make_plan(ShadowSettings, {"iterations": "1"}, [], parse_seeds("1..2"), [], False)

    def pool_start() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(tiny, LocalExecutor(2), Path(tmp) / "r.jsonl", utc=UTC)

    t_start = min(timed(pool_start) for _ in range(args.repeat))
    print(f"runs: {runs} ({args.iterations} iterations each), python {sys.version.split()[0]}")
    print(f"bare runs        {t_bare:7.3f} s wall, {c_bare:7.3f} s CPU ({c_bare / runs * 1000:.1f} ms CPU per run)")
    print(f"sweep, 1 worker  {t_one:7.3f} s wall, {c_one:7.3f} s CPU")
    print(f"sweep, 2 workers {t_two:7.3f} s wall: ratio {t_two / t_one:.2f} of 1 worker (target <= 0.60)")
    print(f"overhead per run {(c_one - c_bare) / runs * 1000:7.2f} ms CPU (1 worker - bare), "
          f"{t_direct / runs * 1000:.2f} ms wall measured directly (target <= 50)")
    print(f"2-worker pool    {t_start:7.3f} s to start and run 2 one-iteration runs (fixed cost of a sweep)")
    ideal = (c_one / 2 + t_start) / c_one
    print(f"expected ratio on two idle cores: (1-worker CPU / 2 + pool start) / 1-worker CPU = {ideal:.2f}")
    print(f"machine ceiling: a pure CPU loop on 2 processes takes {machine_ceiling():.2f} of 1 process right now")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other processes share the cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
