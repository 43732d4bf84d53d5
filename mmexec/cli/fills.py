"""`mmexec fills JOURNAL`: every fill of a journaled run, with its fee and rebate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmexec.cli.common import new_app

app = new_app(help="List the fills of a run journal (--state).")
JOURNAL_HELP = "A run journal (SQLite, written by --state)."
JSON_HELP = "JSON Lines (the fills-file fields plus seq, fee, rebate) instead of a table."
COLUMNS = ("seq", "timestamp_ms", "symbol", "side", "qty", "price", "liquidity", "fee", "rebate",
           "client_order_id", "order_id", "fill_id")


@app.command("fills", help="List the fills of a run journal (--state), in execution order.")
def fills(
    journal: Annotated[Path, typer.Argument(metavar="JOURNAL", help=JOURNAL_HELP, show_default=False)],
    json_output: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    from mmexec.canonical import dumps
    from mmexec.cli.common import emit
    from mmexec.cli.orders import table_bytes
    from mmexec.fees.fills_io import fill_to_dict
    from mmexec.journal.reader import JournalReader

    with JournalReader(journal) as reader:
        records = [{**fill_to_dict(j.fill), "seq": j.seq, "fee": format(j.fee, "f"), "rebate": format(j.rebate, "f")}
                   for j in reader.fills()]
    if json_output:
        emit(b"".join(dumps(r) for r in records))
        return
    emit(table_bytes(COLUMNS, ([str(r[c]) for c in COLUMNS] for r in records)))
    typer.echo(f"{len(records)} fill{'' if len(records) == 1 else 's'}", err=True)
