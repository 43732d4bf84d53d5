"""The sweep loop: submit the runs still to do, stream each result to disk as it completes, survive failures.

A failed run is recorded and the sweep goes on; Ctrl-C stops it and keeps every finished result (the result file
is still sorted); the executor is always closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mmexec.sweep.executors import Executor
from mmexec.sweep.grid import RunPoint, SweepPlan
from mmexec.sweep.progress import SweepProgress
from mmexec.sweep.results import ResultStore, sweep_id
from mmexec.sweep.runner import RunResult, RunTask


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    total: int  # runs in the plan
    skipped: int  # already in --out (resume)
    done: int  # finished in this session (ok or failed)
    failed: int
    interrupted: bool
    stored: int  # runs in the final result file


def plan_sweep_id(plan: SweepPlan, utc: str) -> str:
    point: RunPoint = plan.points[0]
    return sweep_id(point.settings, point.params, utc)


def tasks_of(plan: SweepPlan, utc: str, *, keep_reports: bool, skip: set[str]) -> list[RunTask]:
    ident = plan_sweep_id(plan, utc)
    return [RunTask(p.key, p.combination, p.params, p.settings, utc, ident, keep_reports)
            for p in plan.points if p.key not in skip]


def run_sweep(plan: SweepPlan, executor: Executor, out: Path, *, utc: str, resume: bool = False,
              reports_dir: Path | None = None, progress: bool = False,
              on_result: Callable[[RunResult], None] | None = None) -> SweepOutcome:
    store = ResultStore(out, plan_sweep_id(plan, utc), resume=resume, reports_dir=reports_dir)
    done = failed = 0
    interrupted = opened = False
    tasks: list[RunTask] = []
    try:
        done_before = store.open()  # a resume of another sweep is refused here, before anything runs
        opened = True
        tasks = tasks_of(plan, utc, keep_reports=reports_dir is not None, skip=done_before)
        with SweepProgress(len(tasks), enabled=progress) as bar:
            for result in executor.run(tasks):
                store.record(result)
                done += 1
                failed += not result.ok
                bar.advance(result.ok)
                if on_result is not None:
                    on_result(result)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        executor.close()
        stored = store.finalize() if opened else 0
    return SweepOutcome(len(plan.points), len(plan.points) - len(tasks), done, failed, interrupted, stored)
