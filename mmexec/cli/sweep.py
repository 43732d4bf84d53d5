"""`mmexec sweep`: a parameter sweep (grid × seeds × data files), on local processes or a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmexec.cli.common import new_app

_GRID = "Grid"
_EXEC = "Execution"
_OUT = "Output & config"

HELP = """Run every combination of --grid values × seeds × data files; one canonical JSON line per run in --out.

Run flags: every flag of `mmexec shadow` applies to all runs (e.g. --iterations 200 --fill-rate 0.8), as do
MMEXEC_SHADOW__* and the [shadow] table. Data files (replay): --data FILE… [--per-file]. Exit codes: 0 all runs
succeeded, 1 some failed (recorded in --out), 2 bad input (nothing ran), 130 interrupted (finished runs kept).
"""

app = new_app(help=HELP)


@app.command(name="sweep", help=HELP, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def sweep(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Result file (JSON Lines, sorted by run key); required unless --dry-run", rich_help_panel=_OUT, dir_okay=False, show_default=False)] = None,
    grid: Annotated[list[str] | None, typer.Option("--grid", help="KEY=V1,V2,… a run settings key and its values (repeatable)", rich_help_panel=_GRID, metavar="KEY=V,…", show_default=False)] = None,
    grid_file: Annotated[Path | None, typer.Option("--grid-file", help="TOML file: [grid] KEY = [values], optional seeds and [run]", rich_help_panel=_GRID, dir_okay=False, show_default=False)] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Seeds: 1..20, 1,2,5 or a mix [default: the run's seed]", rich_help_panel=_GRID, show_default=False)] = None,
    per_file: Annotated[bool, typer.Option("--per-file", help="One run per data file instead of one run over all of them", rich_help_panel=_GRID)] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="Local worker processes [default: the machine's cores]", rich_help_panel=_EXEC, min=1, show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Run on a Dask cluster: tcp://HOST:8786 (needs mmexec[dask])", rich_help_panel=_EXEC, show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the runs and stop", rich_help_panel=_EXEC)] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Skip the runs that already succeeded in --out", rich_help_panel=_EXEC)] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Also write the results as CSV", rich_help_panel=_OUT, dir_okay=False, show_default=False)] = None,
    reports_dir: Annotated[Path | None, typer.Option("--reports-dir", help="Keep every run's full report in this directory", rich_help_panel=_OUT, file_okay=False, show_default=False)] = None,
    rank_by: Annotated[str, typer.Option("--rank-by", help="Metric of the summary ranking", rich_help_panel=_OUT)] = "net_pnl",
    top: Annotated[int, typer.Option("--top", help="Combinations in the summary table", rich_help_panel=_OUT, min=1)] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Summary as canonical JSON on stdout instead of a table", rich_help_panel=_OUT)] = False,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file [default: $MMEXEC_CONFIG or ./mmexec.toml]", rich_help_panel=_OUT, dir_okay=False, show_default=False)] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar on stderr [default: when stderr is a terminal]", rich_help_panel=_OUT, show_default=False)] = None,
) -> None:
    from mmexec.cli.common import emit
    from mmexec.sweep.command import SweepRequest, execute_sweep

    request = SweepRequest(
        run_args=list(ctx.args), out=out, grid=list(grid or []), grid_file=grid_file, seeds=seeds,
        per_file=per_file, workers=workers, scheduler=scheduler, dry_run=dry_run, resume=resume, csv=csv_out,
        reports_dir=reports_dir, rank_by=rank_by, top=top, json=json_out, config=config, progress=progress,
    )
    code = execute_sweep(request, emit)
    if code:
        raise typer.Exit(code)

