"""``mmexec report diff A B`` (the regression gate) and ``mmexec report show FILE`` (a report as tables).

Only typer at module level: the library (orjson, rich) is imported inside the commands.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mmexec.cli.common import emit, new_app, print_tables
from mmexec.cli.report_html import html as report_html

app = new_app(
    name="report",
    help="Compare two run reports (exit 1 when they differ) or show one as tables.",
    no_args_is_help=True,
)

SIZE_FLAG = "--max-input-size"
SIZE_HELP = "Refuse input files larger than this (K, M, G suffixes; default 64M)."


def _max_bytes(value: str | None) -> int:
    from mmexec.json_input import parse_size
    from mmexec.reporting.diff import DEFAULT_MAX_BYTES

    return DEFAULT_MAX_BYTES if value is None else parse_size(value, flag=SIZE_FLAG)


PATH_HELP = (
    "Ignore this path and everything below it (repeatable). Paths: keys joined by dots, list items as [N], "
    'odd keys quoted as ["BTC.USDT"]; * = one segment, [*] = one index, ** = any depth. Example: runtime.*'
)


@app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(metavar="A", help="The baseline report (JSON, or a run journal; - for stdin).",
                                     show_default=False)],
    b: Annotated[str, typer.Argument(metavar="B", help="The report to compare with A (- for stdin).",
                                     show_default=False)],
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
    max_input_size: Annotated[
        str | None, typer.Option(SIZE_FLAG, metavar="SIZE", help=SIZE_HELP, show_default=False)
    ] = None,
) -> None:
    """Compare two reports path by path. Exit 0 when equal, 1 when they differ, 2 on bad input."""
    from mmexec.errors import ConfigError
    from mmexec.json_input import STDIN, display_name
    from mmexec.reporting.diff import (
        IgnorePatterns,
        diff_reports,
        ensure_differences_writable,
        tolerance,
    )

    # Check every flag before reading (possibly large) files.
    if a == STDIN and b == STDIN:
        raise ConfigError("only one of A and B can be - (stdin)", source="arguments A and B")
    abs_d = tolerance(abs_tol, "abs_tol", source="flag --abs-tol")
    rel_d = tolerance(rel_tol, "rel_tol", source="flag --rel-tol")
    patterns = IgnorePatterns(ignore or (), source="flag --ignore")
    max_bytes = _max_bytes(max_input_size)
    doc_a, doc_b = _load(a, max_bytes), _load(b, max_bytes)
    differences = diff_reports(doc_a, doc_b, patterns, abs_tol=abs_d, rel_tol=rel_d)
    ensure_differences_writable(differences, display_name(a), display_name(b))
    if json_output:
        from mmexec.canonical import dumps

        emit(dumps({"count": len(differences), "differences": [d.to_json() for d in differences]}),
             closed_exit=1 if differences else 0)
    elif differences:
        import sys

        from mmexec.reporting.show import diff_table

        print_tables([diff_table(differences, limit, fold_paths=sys.stdout.isatty())], closed_exit=1)
    count = len(differences)
    typer.echo(f"{count or 'no'} difference{'' if count == 1 else 's'}", err=True)
    if differences:
        raise typer.Exit(1)


@app.command("show")
def show(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A report (JSON; - for stdin) or a run journal (--state).",
                                        show_default=False)],
    *,
    section: Annotated[
        list[str] | None,
        typer.Option("--section", "-s", metavar="NAME", help="Show only this section (repeatable)."),
    ] = None,
    max_items: Annotated[
        int, typer.Option("--max-items", min=1, metavar="N", help="List items shown before '... and M more'.")
    ] = 20,
    limit: Annotated[
        int, typer.Option("--limit", min=0, metavar="N", help="Rows per section table, 0 = all.")
    ] = 200,
    max_input_size: Annotated[
        str | None, typer.Option(SIZE_FLAG, metavar="SIZE", help=SIZE_HELP, show_default=False)
    ] = None,
) -> None:
    """Show a report: a per-symbol summary, then its sections as tables (every section, known or not)."""
    from mmexec.errors import ConfigError
    from mmexec.json_input import display_name
    from mmexec.reporting.diff import ensure_writable, format_path
    from mmexec.reporting.show import headline_table, render_report, section_names

    report = _load(file, _max_bytes(max_input_size))
    ensure_writable(report, display_name(file))
    names = section_names(report)
    for name in section or ():
        if name not in report:
            have = ", ".join(format_path((n,)) for n in names) or "none"
            raise ConfigError(f"no section {name!r} in the report (it has: {have})", source="flag --section")
    headline = None if section else headline_table(report, max_items)
    tables = render_report(report, section or names, max_items, limit)
    if headline is not None or tables:
        print_tables([*([headline] if headline is not None else []), *tables])
    if not report:
        typer.echo("the report is empty", err=True)


def _load(path: str, max_bytes: int) -> dict[str, Any]:
    """A report file (``-`` is stdin), or the report stored in a run's SQLite journal (told apart by the file's
    header). A journal is a database, read by path: on stdin it is refused."""
    from mmexec.journal.schema import SQLITE_HEADER, looks_like_sqlite
    from mmexec.json_input import STDIN, display_name, read_input
    from mmexec.reporting.diff import load_report, parse_report

    if path == STDIN:
        raw = read_input(path, what="report", max_bytes=max_bytes, flag=SIZE_FLAG)
        if raw.startswith(SQLITE_HEADER):
            from mmexec.errors import InputError

            raise InputError("a run journal cannot be read from stdin: give its path", source=display_name(path))
        return parse_report(raw, source=display_name(path))
    if looks_like_sqlite(path):
        from mmexec.journal.reader import load_journal_report

        return load_journal_report(path)
    return load_report(path, max_bytes=max_bytes, size_flag=SIZE_FLAG)


app.command("html")(report_html)  # `report html` (#13) lives in its own module
