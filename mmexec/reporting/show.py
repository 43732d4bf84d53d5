"""Rich tables for people: a report's sections (``report show``) and a list of differences (``report diff``).

Every section is shown, known or not: one key/value table per top-level key, nested objects flattened to paths
in the syntax of :mod:`mmexec.reporting.diff` (``by_symbol.BTCUSDT``), lists of scalars inline, lists of
objects as their own table (one row per item, one column per key), long lists cut after ``max_items`` with an
"... and N more" row. An object named ``by_symbol`` whose values are objects (``pnl.by_symbol``,
``fees.by_symbol``) is a table too: one row per symbol, one column per field. :func:`headline_table` is the
per-symbol PnL summary shown first. Numbers are right-aligned. Strings are never read as rich markup, and
control characters in any cell are shown escaped (``\x1b``), so a report cannot drive the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rich.table import Table
from rich.text import Text

from mmexec.reporting.diff import Difference, DiffKind, Segment, format_path, json_type

# Shown first, in this order, when present; the rest follow alphabetically, then config and runtime.
LEADING = ("execution", "orders", "positions", "risk", "pnl", "fees", "bybit", "recon")
TRAILING = ("config", "runtime")
MAX_CELL = 200  # characters of a nested value shown in one cell
BY_SYMBOL = "by_symbol"
# The headline: pnl.by_symbol field -> column title.
HEADLINE = {
    "position": "position", "avg_entry_price": "avg entry", "mark_price": "mark", "realized": "realized",
    "unrealized": "unrealized", "fees": "fees", "rebates": "rebates", "net": "net",
}
# C0 and C1 control characters, DEL, and the Unicode bidi controls that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every control character written as an escape (``\x1b``, ``\n``, ``\u202e``)."""
    return _CONTROL.sub(_escape_one, text)


def plain(text: str, **kwargs: Any) -> Text:
    """Table text from report data: escaped, never markup."""
    return Text(safe(text), **kwargs)


def section_names(report: dict[str, Any]) -> list[str]:
    """The report's top-level keys in display order."""
    fixed = set(LEADING) | set(TRAILING)
    middle = sorted(k for k in report if k not in fixed)
    return [k for k in LEADING if k in report] + middle + [k for k in TRAILING if k in report]


def headline_table(report: dict[str, Any], max_items: int = 20) -> Table | None:
    """The per-symbol summary (position, average entry, mark, realized, unrealized, fees, rebates, net) and a
    total row, from the ``pnl`` section; ``None`` when the report has no per-symbol PnL."""
    pnl = report.get("pnl")
    if not isinstance(pnl, dict):
        return None
    by_symbol = pnl.get(BY_SYMBOL)
    if not isinstance(by_symbol, dict) or not by_symbol or not all(isinstance(v, dict) for v in by_symbol.values()):
        return None
    table = Table(title=Text("summary (pnl per symbol)"), title_justify="left")
    table.add_column("symbol", no_wrap=True)
    for title in HEADLINE.values():
        table.add_column(title, justify="right")
    blank = Text("")
    for symbol, row in list(by_symbol.items())[:max_items]:
        table.add_row(plain(symbol), *(cell(row[k]) if k in row else blank for k in HEADLINE))
    if len(by_symbol) > max_items:
        table.add_row(Text(f"… and {len(by_symbol) - max_items} more", style="dim"))
    total = pnl.get("total")
    if isinstance(total, dict):
        table.add_section()
        table.add_row(Text("TOTAL"), *(cell(total[k]) if k in total else blank for k in HEADLINE))
    return table


def render_report(report: dict[str, Any], sections: Iterable[str], max_items: int = 20,
                  limit: int = 0) -> list[Table]:
    """Tables for ``sections`` (keys of ``report``), each followed by the tables of its lists of objects.

    ``limit`` > 0 caps the rows of each section's table (a huge section renders in bounded time and memory)."""
    tables: list[Table] = []
    for name in sections:
        tables.extend(_section(name, report[name], max_items, limit))
    return tables


def _section(name: str, value: Any, max_items: int, limit: int = 0) -> list[Table]:
    main = Table(title=plain(name), title_justify="left", show_header=False)
    main.add_column("key", overflow="fold")
    main.add_column("value", overflow="fold")
    records: list[Table] = []
    # Iterative depth-first walk in document order: (path below the section, value).
    stack: list[tuple[tuple[Segment, ...], Any]] = [((), value)]
    while stack:
        if 0 < limit <= main.row_count:
            main.add_row(Text("…"), Text("… more rows (--limit 0 shows all)", style="dim"))
            break
        path, item = stack.pop()
        key = plain(format_path(path) or "(value)")
        if isinstance(item, dict) and item and path[-1:] == (BY_SYMBOL,) and all(
            isinstance(v, dict) for v in item.values()
        ):
            title = format_path((name, *path))
            main.add_row(key, Text(f"{len(item)} symbols (table {safe(title)})"))
            records.append(_symbol_table(title, item, max_items, limit))
        elif isinstance(item, dict) and item:
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list) and item and all(isinstance(x, dict) for x in item[:max_items]):
            title = format_path((name, *path))
            main.add_row(key, Text(f"{len(item)} items (table {safe(title)})"))
            records.append(_records(title, item, max_items, limit))
        elif isinstance(item, list) and item and any(isinstance(x, (dict, list)) for x in item[:max_items]):
            if len(item) > max_items:
                stack.append((path, _More(len(item) - max_items)))
            stack.extend(((*path, i), x) for i, x in reversed(list(enumerate(item[:max_items]))))
        elif isinstance(item, _More):
            main.add_row(Text(f"{key.plain}[…]"), Text(f"… and {item.count} more", style="dim"))
        else:
            main.add_row(key, cell(item, max_items=max_items))
    return [main, *records]


class _More:
    """Marker row: a list was cut after ``max_items``."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


def _flat(value: dict[str, Any], prefix: tuple[Segment, ...] = ()) -> dict[tuple[Segment, ...], Any]:
    """Leaves of nested objects by relative path: ``{"schedule": {"name": "VIP0"}}`` -> ``{("schedule", "name"):
    "VIP0"}`` (bounded: input nesting is bounded when reports are read)."""
    out: dict[tuple[Segment, ...], Any] = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            out.update(_flat(item, (*prefix, key)))
        else:
            out[(*prefix, key)] = item
    return out


def _capped(columns: dict[Any, None], limit: int, title: str) -> tuple[dict[Any, None], Table]:
    """At most ``limit`` columns (> 0); the table's caption says how many fields were left out."""
    table = Table(title=plain(title), title_justify="left")
    if 0 < limit < len(columns):
        table.caption = f"… and {len(columns) - limit} more fields (--limit 0 shows all)"
        columns = dict.fromkeys(list(columns)[:limit])
    return columns, table


def _symbol_table(title: str, by_symbol: dict[str, dict[str, Any]], max_items: int, limit: int = 0) -> Table:
    """One row per symbol, one column per (flattened) field."""
    shown = [(symbol, _flat(fields)) for symbol, fields in list(by_symbol.items())[:max_items]]
    columns: dict[tuple[Segment, ...], None] = {}
    for _, fields in shown:
        columns.update(dict.fromkeys(fields))
    columns, table = _capped(columns, limit, title)
    table.add_column("symbol", no_wrap=True)
    for column in columns:
        numeric = all(_is_number(fields.get(column)) or fields.get(column) is None for _, fields in shown)
        table.add_column(plain(format_path(column)), justify="right" if numeric else "left", overflow="fold")
    for symbol, fields in shown:
        table.add_row(plain(symbol), *(cell(fields[c]) if c in fields else Text("") for c in columns))
    if len(by_symbol) > max_items:
        table.add_row(Text(f"… and {len(by_symbol) - max_items} more", style="dim"))
    return table


def _records(title: str, items: list[dict[str, Any]], max_items: int, limit: int = 0) -> Table:
    shown = items[:max_items]
    columns: dict[str, None] = {}
    for item in shown:
        columns.update(dict.fromkeys(item))
    columns, table = _capped(columns, limit, title)
    table.add_column("#", justify="right")
    for column in columns:
        numeric = all(_is_number(item.get(column)) or item.get(column) is None for item in shown)
        table.add_column(plain(format_path((column,))), justify="right" if numeric else "left", overflow="fold")
    for i, item in enumerate(shown):
        table.add_row(Text(str(i)), *(cell(item[c]) if c in item else Text("") for c in columns))
    if len(items) > max_items:
        table.add_row(Text("…"), Text(f"… and {len(items) - max_items} more", style="dim"))
    return table


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def cell(value: Any, *, quote: bool = False, max_items: int | None = None) -> Text:
    """One value as table text: JSON spelling for null/booleans/containers, numbers right-aligned.

    ``quote`` writes strings as JSON strings (to tell ``"1"`` from ``1``); ``max_items`` cuts long lists.
    """
    if value is None:
        return Text("null", style="dim")
    if isinstance(value, bool):
        return Text("true" if value else "false")
    if _is_number(value):
        return Text(str(value), justify="right")
    if isinstance(value, str):
        return plain(_compact(value) if quote else value)
    if isinstance(value, list) and max_items is not None and len(value) > max_items:
        return plain(f"{_compact(value[:max_items])[:-1]}, … and {len(value) - max_items} more]")
    return plain(_compact(value))



def _compact(value: Any) -> str:
    from mmexec.canonical import dumps

    text = dumps(value).decode("utf-8").rstrip("\n")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def diff_table(differences: Sequence[Difference], limit: int = 0, *, fold_paths: bool = False) -> Table:
    """The differences as a table (path, A, B, change); only the first ``limit`` rows when ``limit`` > 0.

    The path column is never folded (each path stays pastable into ``--ignore``) unless ``fold_paths`` (on a
    terminal narrower than the paths)."""
    shown = differences[:limit] if limit > 0 else differences
    more = len(differences) - len(shown)
    table = Table(caption=f"… and {more} more (--json lists all)" if more else None, caption_justify="left")
    if fold_paths:
        table.add_column("path", overflow="fold")
    else:
        table.add_column("path", no_wrap=True, min_width=max((len(safe(d.path)) for d in shown), default=4))
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")
    table.add_column("change", overflow="fold")
    absent = Text("—", style="dim")
    for d in shown:
        a = absent if d.kind is DiffKind.ADDED else cell(d.a, quote=True)
        b = absent if d.kind is DiffKind.REMOVED else cell(d.b, quote=True)
        table.add_row(plain(d.path), a, b, _change(d))
    return table


def _change(d: Difference) -> Text:
    if d.kind is DiffKind.ADDED:
        return Text("added", style="green")
    if d.kind is DiffKind.REMOVED:
        return Text("removed", style="red")
    if d.abs_change is not None:
        text = f"{d.abs_change:+}"
        if d.rel_change is not None:
            text += f" ({_percent(d.rel_change)})"
        return Text(text, style="yellow", justify="right")
    ta, tb = json_type(d.a), json_type(d.b)
    return Text(f"{ta} → {tb}" if ta != tb else "changed", style="yellow")


def _percent(fraction: Decimal) -> str:
    pct = fraction * 100
    if pct != 0 and abs(pct) < Decimal("0.01"):
        return f"{pct:+.2e}%"
    return f"{pct:+.2f}%"
