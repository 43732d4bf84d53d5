"""``mmexec report html REPORT [REPORT_B] [-o FILE]``: one self-contained HTML page of one or two reports.

Registered on the ``report`` group by :mod:`mmexec.cli.report`. Only typer at module level; plotly (the
``mmexec[html]`` extra) is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    from mmexec.artifacts import ArtifactWriter
    from mmexec.cli.common import emit
    from mmexec.reporting.html import build_html, require_html_extra

    require_html_extra(source="mmexec report html")
    if out is None:
        emit(build_html(_read_runs(report, report_b)).encode("utf-8"))
        return
    # Opened before the reports are read: a bad -o (missing directory, a directory) fails up front.
    with ArtifactWriter(out, what="HTML page") as page_out:
        page_out.write(build_html(_read_runs(report, report_b)).encode("utf-8"))
    typer.echo(f"wrote {out}", err=True)


def _read_runs(report: str, report_b: str | None) -> list[tuple[str, dict[str, Any]]]:
    from mmexec.reporting.diff import ensure_writable, load_report

    runs = []
    for path in [report] if report_b is None else [report, report_b]:
        loaded = load_report(path)
        ensure_writable(loaded, path)
        runs.append((path, loaded))
    return runs
