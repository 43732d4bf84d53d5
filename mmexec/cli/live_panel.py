"""What a live session shows while it runs: a rich panel on a terminal, JSON status lines otherwise.

Per symbol: mid, spread, position, open orders, fills, net PnL; and the feed: lag (wall clock minus the receive
time of the last message consumed), reconnects, drops, gaps. The panel is refreshed at most 4 times a second
(after a batch of messages, never from a timer of its own); without a terminal a ``live status`` JSON log line is
written at INFO level (``--log-level info``) at most every 5 s. Nothing here touches the report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mmexec.logs import log_event

if TYPE_CHECKING:
    from mmexec.run.live import LiveSession

LOGGER = logging.getLogger("mmexec.live")
PANEL_EVERY_NS = 250_000_000  # at most 4 refreshes a second
LOG_EVERY_NS = 5_000_000_000


def snapshot(session: LiveSession) -> dict[str, Any]:
    """The session now: per-symbol rows and the feed's counters (what the panel and the status line show)."""
    stats = session.feed.stats
    out: dict[str, Any] = {"lag_ms": session.lag_ms(), "reconnects": stats.reconnects, "drops": stats.drops,
                           "stale": stats.stale, "malformed": stats.malformed, "symbols": {}}
    run = session.run
    if run is None or run.replay is None:
        return out
    market = run.replay.market
    marks = run.replay.marks()
    pnl = run.pnl.section(marks, run.ledger.fees_by_symbol(), run.ledger.rebates_by_symbol())["by_symbol"]
    for symbol, book in market.books.items():
        tick = market.specs[symbol].tick_size
        mid2 = book.mid2()
        out["symbols"][symbol] = {
            "book": book.state if book.tradable or book.state == "invalid" else "not tradable",
            "mid": str(mid2 * tick / 2) if mid2 else None,
            "spread": str((book.ask - book.bid) * tick) if mid2 else None,
            "position": str(run.pnl.holding(symbol).qty),
            "open_orders": len(run.order_store.get_open_orders(symbol)),
            "fills": session.fills.get(symbol, 0),
            "net_pnl": str(pnl[symbol]["net"]) if symbol in pnl else "0",
            "gaps": book.gaps,
        }
    return out


def _table(state: dict[str, Any]) -> Any:
    from rich.table import Table

    lag = state["lag_ms"]
    table = Table(title=f"mmexec live shadow  lag {lag if lag is not None else '-'} ms  reconnects "
                        f"{state['reconnects']}  drops {state['drops']}  stale {state['stale']}",
                  title_justify="left")
    columns = ("symbol", "book", "mid", "spread", "position", "open", "fills", "net PnL", "gaps")
    for name in columns:
        table.add_column(name, justify="left" if name in ("symbol", "book") else "right")
    for symbol, row in state["symbols"].items():
        table.add_row(symbol, row["book"], row["mid"] or "-", row["spread"] or "-", row["position"],
                      str(row["open_orders"]), str(row["fills"]), _money(row["net_pnl"]), str(row["gaps"]))
    return table


def _money(text: str) -> str:
    return f"{Decimal(text):.2f}"


@contextmanager
def status_display(session: LiveSession, *, terminal: bool) -> Iterator[None]:
    """Show the session's status while the block runs (a panel on a terminal, else INFO status lines)."""
    last = [0]
    if not terminal:
        def log_status(s: LiveSession) -> None:
            now = time.monotonic_ns()
            if now - last[0] >= LOG_EVERY_NS and LOGGER.isEnabledFor(logging.INFO):
                last[0] = now
                log_event(LOGGER, logging.INFO, "live status", **snapshot(s))

        session.on_batch = log_status
        yield
        return
    from rich.console import Console
    from rich.live import Live

    with Live(_table(snapshot(session)), console=Console(stderr=True), auto_refresh=False,
              transient=False) as live:
        def refresh(s: LiveSession) -> None:
            now = time.monotonic_ns()
            if now - last[0] >= PANEL_EVERY_NS:
                last[0] = now
                live.update(_table(snapshot(s)), refresh=True)

        session.on_batch = refresh
        yield
        live.update(_table(snapshot(session)), refresh=True)
