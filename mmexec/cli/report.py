"""``mmexec report diff A B`` (the regression gate) and ``mmexec report show FILE`` (a report as tables).

Only typer at module level: the library (orjson, rich) is imported inside the commands.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mmexec.cli.common import emit, new_app

app = new_app(
    name="report",
    help="Compare two run reports (exit 1 when they differ) or show one as tables.",
    no_args_is_help=True,
)

PATH_HELP = (
    "Ignore this path and everything below it (repeatable). Paths: keys joined by dots, list items as [N], "
    'odd keys quoted as ["BTC.USDT"]; * = one segment, [*] = one index, ** = any depth. Example: runtime.*'
)


@app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(metavar="A", help="The baseline report (JSON, or a run journal).",
                                          show_default=False)],
    b: Annotated[str, typer.Argument(metavar="B", help="The report to compare with A.", show_default=False)],
    *,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", metavar="PATH", help=PATH_HELP)] = None,
    abs_tol: Annotated[
        str | None,
        typer.Option("--abs-tol", metavar="X", help="Numbers with |b - a| <= X count as equal."),
    ] = None,
    rel_tol: Annotated[
        str | None,
        typer.Option("--rel-tol", metavar="X", help="Numbers with |b - a| <= X * max(|a|, |b|) count as equal."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the differences as canonical JSON instead of a table.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, metavar="N", help="Table rows to show, 0 = all (--json lists all)."),
    ] = 200,
) -> None:
    """Compare two reports path by path. Exit 0 when equal, 1 when they differ, 2 on bad input."""
    from mmexec.reporting.diff import (
        IgnorePatterns,
        diff_reports,
        ensure_differences_writable,
        tolerance,
    )

    # Check every flag before reading (possibly large) files.
    abs_d = tolerance(abs_tol, "abs_tol", source="flag --abs-tol")
    rel_d = tolerance(rel_tol, "rel_tol", source="flag --rel-tol")
    patterns = IgnorePatterns(ignore or (), source="flag --ignore")
    differences = diff_reports(_load(a), _load(b), patterns, abs_tol=abs_d, rel_tol=rel_d)
    ensure_differences_writable(differences, a, b)
    if json_output:
        from mmexec.canonical import dumps

        emit(dumps({"count": len(differences), "differences": [d.to_json() for d in differences]}))
    elif differences:
        from rich.console import Console

        from mmexec.reporting.show import diff_table

        Console(highlight=False).print(diff_table(differences, limit))
    count = len(differences)
    typer.echo(f"{count or 'no'} difference{'' if count == 1 else 's'}", err=True)
    if differences:
        raise typer.Exit(1)


@app.command("show")
def show(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A report (JSON) or a run journal (--state).",
                                             show_default=False)],
    *,
    section: Annotated[
        list[str] | None,
        typer.Option("--section", "-s", metavar="NAME", help="Show only this section (repeatable)."),
    ] = None,
    max_items: Annotated[
        int, typer.Option("--max-items", min=1, metavar="N", help="List items shown before '... and M more'.")
    ] = 20,
) -> None:
    """Show a report's sections as tables (every section, known or not)."""
    from rich.console import Console

    from mmexec.errors import ConfigError
    from mmexec.reporting.diff import ensure_writable, format_path
    from mmexec.reporting.show import render_report, section_names

    report = _load(file)
    ensure_writable(report, file)
    names = section_names(report)
    for name in section or ():
        if name not in report:
            have = ", ".join(format_path((n,)) for n in names) or "none"
            raise ConfigError(f"no section {name!r} in the report (it has: {have})", source="flag --section")
    console = Console(highlight=False)
    for table in render_report(report, section or names, max_items):
        console.print(table)
    if not report:
        typer.echo("the report is empty", err=True)


def _load(path: str) -> dict[str, Any]:
    """A report file, or the report stored in a run's SQLite journal (told apart by the file's header)."""
    from mmexec.journal.schema import looks_like_sqlite

    if looks_like_sqlite(path):
        from mmexec.journal.reader import load_journal_report

        return load_journal_report(path)
    from mmexec.reporting.diff import load_report

    return load_report(path)
