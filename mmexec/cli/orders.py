"""`mmexec orders JOURNAL`: every order of a journaled run (not only the in-memory store's last 10,000)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmexec.cli.common import new_app

app = new_app(help="List the orders of a run journal (--state).")
JOURNAL_HELP = "A run journal (SQLite, written by --state)."
STATE_HELP = "Only orders in this state: OPEN, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED."
JSON_HELP = "JSON Lines (one canonical object per order) instead of a table."
COLUMNS = ("client_order_id", "order_id", "symbol", "side", "qty", "price", "state", "filled_qty", "fees",
           "created_ms", "updated_ms")


@app.command("orders", help="List the orders of a run journal (--state), oldest first.")
def orders(
    journal: Annotated[Path, typer.Argument(metavar="JOURNAL", help=JOURNAL_HELP, show_default=False)],
    state: Annotated[str | None, typer.Option("--state", metavar="STATE", help=STATE_HELP, show_default=False)] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", metavar="SYMBOL", help="Only orders of this symbol.",
                                               show_default=False)] = None,
    json_output: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    from mmexec.canonical import dumps
    from mmexec.cli.common import emit
    from mmexec.engine.models import OrderState
    from mmexec.errors import ConfigError
    from mmexec.journal.reader import JournalReader

    wanted = None
    if state is not None:
        names = [s.value for s in OrderState]
        wanted = state.strip().upper()
        if wanted not in names:
            raise ConfigError(f"unknown order state {state!r} (expected one of {', '.join(names)})", source="--state")
    sym = symbol.strip().upper() if symbol is not None else None
    with JournalReader(journal) as reader:
        rows = [o for o in reader.orders()
                if (wanted is None or o.state == wanted) and (sym is None or o.symbol == sym)]
    if json_output:
        emit(b"".join(dumps(o.to_dict()) for o in rows))
        return
    emit(table_bytes(COLUMNS, ([str(getattr(o, c)) if getattr(o, c) is not None else "" for c in COLUMNS]
                               for o in rows)))
    typer.echo(f"{len(rows)} order{'' if len(rows) == 1 else 's'}", err=True)


def table_bytes(columns: tuple[str, ...], rows: object) -> bytes:
    """A plain aligned text table (fast for hundreds of thousands of rows; no colours)."""
    data = [list(columns), *rows]  # type: ignore[misc]
    widths = [max(len(row[i]) for row in data) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in data]
    return ("\n".join(lines) + "\n").encode("utf-8")
