"""The body of ``mmexec sweep`` (imported only when a sweep starts): inputs -> plan -> executor -> results.

Every input is checked before the first run starts (grid, values, seeds, data files, scheduler, resume file);
a bad one is one ``error:`` line and exit 2 with nothing written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mmexec.errors import ConfigError
from mmexec.sweep.grid import GridAxis, SweepPlan

EXIT_INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class SweepRequest:
    run_args: list[str]
    out: Path | None
    grid: list[str]
    grid_file: Path | None = None
    seeds: str | None = None
    per_file: bool = False
    workers: int | None = None
    scheduler: str | None = None
    dry_run: bool = False
    resume: bool = False
    csv: Path | None = None
    reports_dir: Path | None = None
    rank_by: str = "net_pnl"
    top: int = 10
    json: bool = False
    config: Path | None = None
    progress: bool | None = None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build_plan(request: SweepRequest) -> SweepPlan:
    """Parse and validate the grid, seeds, data files and run flags into a :class:`SweepPlan`."""
    from mmexec.config.files import resolve_config_file
    from mmexec.config.run import ShadowSettings
    from mmexec.sweep.flags import parse_run_flags
    from mmexec.sweep.grid import load_grid_file, make_plan, parse_grid_option, parse_seeds

    flags, data = parse_run_flags(request.run_args, ShadowSettings.model_fields)
    axes: list[GridAxis] = []
    seeds_text, seeds_source = request.seeds, "--seeds"
    if request.grid_file is not None:
        grid_file = load_grid_file(request.grid_file)
        axes.extend(grid_file.axes)
        flags = {**grid_file.run, **flags}  # flags on the command line win over the file's [run]
        if seeds_text is None and grid_file.seeds is not None:
            seeds_text, seeds_source = grid_file.seeds, f"--grid-file {request.grid_file} seeds"
    cli_axes = [parse_grid_option(text) for text in request.grid]
    cli_keys = {c.key for c in cli_axes}
    axes = [a for a in axes if a.key not in cli_keys] + cli_axes  # --grid replaces the file's values of a key
    seeds = parse_seeds(seeds_text, seeds_source) if seeds_text is not None else None
    plan = make_plan(ShadowSettings, flags, axes, seeds, data, request.per_file, resolve_config_file(request.config))
    if any(point.settings.get("exchange") == "bybit" for point in plan.points):
        # The Bybit dry-run signs with real credentials: they are not shipped to sweep workers.
        raise ConfigError("sweeps run the simulated exchange (fake); the Bybit dry-run needs API credentials, "
                          "which are never sent to sweep workers", source="--exchange")
    return plan


def execute_sweep(request: SweepRequest, emit: Callable[[bytes], None]) -> int:
    """Run the sweep; return the exit code (0 ok, 1 some runs failed, 130 interrupted). ``emit`` writes stdout."""
    from mmexec.canonical import dumps
    from mmexec.config.runtime import frozen_utc
    from mmexec.run.builder import utc_now_iso
    from mmexec.sweep.driver import run_sweep
    from mmexec.sweep.executors import DaskExecutor, Executor, LocalExecutor, check_local_files, default_workers
    from mmexec.sweep.results import previous_utc, write_csv
    from mmexec.sweep.summary import check_rank_by, read_summary, render_table

    check_rank_by(request.rank_by)
    if request.scheduler is not None and request.workers is not None:
        raise ConfigError("--workers is for local processes; a Dask cluster has its own workers",
                          source="--workers with --scheduler")
    plan = build_plan(request)
    for flag, path in (("--out", request.out), ("--csv", request.csv)):
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(f"the directory of {str(path)!r} does not exist", source=flag)
    data_files = sorted({f for group in plan.data_groups for f in group})
    if request.dry_run:
        _say(f"sweep: {plan.describe()} (dry run)")
        emit(b"".join(dumps({"run": p.key, "params": dict(p.params)}) if request.json else (p.key + "\n").encode()
                      for p in plan.points))
        return 0
    if request.out is None:
        raise ConfigError("--out FILE is required (the result file)", source="--out")
    out = request.out
    utc = frozen_utc() or (previous_utc(out) if request.resume else None) or utc_now_iso()
    executor: Executor
    if request.scheduler is not None:
        dask = DaskExecutor(request.scheduler)
        dask.connect(data_files)
        executor = dask
    else:
        check_local_files(data_files)
        executor = LocalExecutor(request.workers or default_workers())
    _say(f"sweep: {plan.describe()} on {executor.description}")
    show_progress = request.progress if request.progress is not None else sys.stderr.isatty()
    outcome = run_sweep(plan, executor, out, utc=utc, resume=request.resume,
                        reports_dir=request.reports_dir, progress=show_progress)
    if request.csv is not None:
        write_csv(out, request.csv)
    summary = read_summary(out, request.rank_by)
    if request.json:
        emit(dumps(summary.as_dict(request.top)))
    else:
        from rich.console import Console

        console = Console()
        if not console.is_terminal:  # a file or a pipe: no terminal width to respect, do not cut the keys
            console = Console(width=200)
        console.print(render_table(summary, request.top))
    skipped = f", {outcome.skipped} skipped (already in --out)" if outcome.skipped else ""
    _say(f"sweep: {outcome.done} run(s) done, {outcome.failed} failed{skipped}; {outcome.stored} in {out}")
    if outcome.interrupted:
        _say("sweep: interrupted; the finished runs are kept (--resume continues)")
        return EXIT_INTERRUPTED
    return 1 if summary.failed else 0
