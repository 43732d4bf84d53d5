"""``mmexec report html REPORT [REPORT_B] [-o FILE]``: one self-contained HTML page of one or two reports.

Registered on the ``report`` group by :mod:`mmexec.cli.report`. Only typer at module level; plotly (the
``mmexec[html]`` extra) is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def html(
    report: Annotated[str, typer.Argument(metavar="REPORT", help="A run report (JSON).", show_default=False)],
    report_b: Annotated[
        str | None,
        typer.Argument(metavar="[REPORT_B]", help="A second report, overlaid on the first (B).", show_default=False),
    ] = None,
    *,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", dir_okay=False, show_default=False,
                     help="Write the page to FILE (atomically) [default: stdout]."),
    ] = None,
) -> None:
    """Write one self-contained HTML page (works offline): headline figures, tables, charts over time."""
    from mmexec.cli.common import emit
    from mmexec.reporting.diff import ensure_writable, load_report
    from mmexec.reporting.html import build_html, check_output_path, require_html_extra, write_html_report

    require_html_extra(source="mmexec report html")
    if out is not None:
        check_output_path(out, source="flag --out")
    paths = [report] if report_b is None else [report, report_b]
    runs = []
    for path in paths:
        loaded = load_report(path)
        ensure_writable(loaded, path)
        runs.append((path, loaded))
    if out is not None:
        write_html_report(out, runs)
        typer.echo(f"wrote {out}", err=True)
    else:
        emit(build_html(runs).encode("utf-8"))
