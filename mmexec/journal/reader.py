"""Reading a journal: the run record, orders (rebuilt from their events and fills), fills, the last checkpoint.

Readers open the database read-only and never need the writer's lock, so a running journal can be inspected.

Quantities and prices are stored as integer lots and ticks of the symbol's grid (table ``instruments``, schema
version 2) or as exact decimal text (rows written through the ``Decimal`` ports, version-1 journals); both
read back as the same ``Decimal`` the run had: an order's as the order store gives it (``StoredOrder.qty``),
a fill's as the loop builds its ``FillEvent`` (``lots * lot``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.engine.models import FillEvent, OrderState, Side
from mmexec.engine.order_store import StoredOrder
from mmexec.journal.schema import JournalError, open_readonly
from mmexec.money import MONEY_CONTEXT, plain

Grids = dict[str, tuple[Decimal, Decimal]]  # symbol -> (tick size, lot size)


@dataclass(frozen=True, slots=True)
class RunRecord:
    command: str
    spec: dict[str, Any]
    utc: str | None
    status: str
    created: str
    mmexec_version: str
    report: bytes | None

    @property
    def complete(self) -> bool:
        return self.status == "complete"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    step: int
    events_seq: int
    fills_seq: int
    data: bytes


@dataclass(frozen=True, slots=True)
class JournaledFill:
    seq: int
    fill: FillEvent
    fee: Decimal
    rebate: Decimal


@dataclass(slots=True)
class JournaledOrder:
    client_order_id: str
    order_id: str | None
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    state: str
    filled_qty: Decimal
    fees: Decimal
    created_ms: int
    updated_ms: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def read_run(conn: sqlite3.Connection, source: str) -> RunRecord:
    try:
        row = conn.execute("SELECT command, spec, utc, status, created, mmexec_version, report FROM run").fetchone()
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"journal is corrupt or truncated: {exc}", source=source) from None
    if row is None:
        raise JournalError("journal has no run record", source=source)
    spec = json.loads(row[1], parse_float=Decimal)
    return RunRecord(row[0], spec, row[2], row[3], row[4], row[5], bytes(row[6]) if row[6] is not None else None)


def last_checkpoint(conn: sqlite3.Connection) -> Checkpoint | None:
    row = conn.execute("SELECT step, events_seq, fills_seq, data FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else Checkpoint(row[0], row[1], row[2], bytes(row[3]))


_SIDES = {side.value: side for side in Side}


def read_grids(conn: sqlite3.Connection) -> Grids:
    """Each journaled symbol's (tick, lot) (none in a version-1 journal: its rows are decimal text)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'instruments'").fetchone() is None:
        return {}
    return {symbol: (Decimal(tick), Decimal(lot))
            for symbol, tick, lot in conn.execute("SELECT symbol, tick_size, lot_size FROM instruments")}


def order_amount(value: int | str, unit: Decimal) -> Decimal:
    """An order's stored quantity (``unit``: its lot) or price (its tick) as the order store gives it."""
    return plain(MONEY_CONTEXT.multiply(unit, value)) if isinstance(value, int) else Decimal(value)


def fill_amount(value: int | str, unit: Decimal) -> Decimal:
    """A fill's stored quantity or price as the loop's ``FillEvent`` carried it."""
    return value * unit if isinstance(value, int) else Decimal(value)


def _grid(grids: Grids, symbol: str, value: int | str) -> tuple[Decimal, Decimal]:
    if isinstance(value, str):
        return _NO_GRID
    found = grids.get(symbol)
    if found is None:
        raise JournalError(f"journal has integer amounts of {symbol} but no grid for it (corrupt)")
    return found


_NO_GRID = (Decimal(1), Decimal(1))


AMOUNTS_KEPT = 65_536  # memoised fill quantities and prices per read, then cleared


_FILL_QUERIES = {
    False: "SELECT client_order_id, order_id, symbol, side, qty, price, ts_ms, is_maker, fill_id "
           "FROM fills ORDER BY seq",
    True: "SELECT client_order_id, order_id, symbol, side, qty, price, ts_ms, is_maker, fill_id, seq, fee, rebate "
          "FROM fills ORDER BY seq",
}


def _fills(conn: sqlite3.Connection, fees: bool) -> Iterator[tuple[FillEvent, tuple[Any, ...]]]:
    """Every fill in order (with ``fees``: and its seq, fee and rebate); quantities and prices memoised per
    symbol and stored value (a run repeats a few sizes and prices)."""
    grids = read_grids(conn)
    qtys: dict[tuple[str, int | str], Decimal] = {}
    prices: dict[tuple[str, int | str], Decimal] = {}
    for row in conn.execute(_FILL_QUERIES[fees]):
        symbol, qty, price = row[2], row[4], row[5]
        fill_qty = qtys.get((symbol, qty))
        if fill_qty is None:
            if len(qtys) >= AMOUNTS_KEPT:
                qtys.clear()
            fill_qty = qtys[(symbol, qty)] = fill_amount(qty, _grid(grids, symbol, qty)[1])
        fill_price = prices.get((symbol, price))
        if fill_price is None:
            if len(prices) >= AMOUNTS_KEPT:
                prices.clear()
            fill_price = prices[(symbol, price)] = fill_amount(price, _grid(grids, symbol, price)[0])
        yield FillEvent(row[0], row[1], symbol, _SIDES[row[3]], fill_qty, fill_price, row[6], bool(row[7]),
                        row[8]), row[9:]


def iter_fill_events(conn: sqlite3.Connection) -> Iterator[FillEvent]:
    """Every fill as the run's ``FillEvent`` (what ``--fills-out`` writes for a journaled run)."""
    return (fill for fill, _ in _fills(conn, False))


def iter_fills(conn: sqlite3.Connection) -> Iterator[JournaledFill]:
    """Every fill with its sequence number, fee and rebate."""
    for fill, (seq, fee, rebate) in _fills(conn, True):
        yield JournaledFill(seq, fill, Decimal(fee), Decimal(rebate))


def load_orders(conn: sqlite3.Connection) -> list[JournaledOrder]:
    """Every order of the run, in creation order, with its final state rebuilt from events and fills."""
    grids = read_grids(conn)
    orders: dict[str, JournaledOrder] = {}
    for kind, coid, order_id, symbol, side, qty, price, ts, message in conn.execute(
            "SELECT kind, client_order_id, order_id, symbol, side, qty, price, ts_ms, message "
            "FROM order_events ORDER BY seq"):
        order = orders.get(coid)
        if order is None:
            tick, lot = _grid(grids, symbol, qty)
            order = orders[coid] = JournaledOrder(coid, order_id, symbol, side, order_amount(qty, lot),
                                                  order_amount(price, tick), OrderState.OPEN.value, Decimal(0),
                                                  Decimal(0), ts, ts, message)
        order.order_id = order_id or order.order_id
        order.updated_ms = ts
        if kind == "rejected":
            order.state, order.message = OrderState.REJECTED.value, message
        elif kind == "canceled":
            order.state = OrderState.CANCELED.value
    for coid, symbol, qty, fee, ts in conn.execute(
            "SELECT client_order_id, symbol, qty, fee, ts_ms FROM fills ORDER BY seq"):
        order = orders.get(coid)
        if order is None:
            continue
        order.filled_qty += fill_amount(qty, _grid(grids, symbol, qty)[1])
        order.fees += Decimal(fee)
        order.updated_ms = max(order.updated_ms, ts)
        if order.state != OrderState.CANCELED.value:
            order.state = (OrderState.FILLED if order.filled_qty == order.qty else OrderState.PARTIALLY_FILLED).value
    return list(orders.values())


def load_order(conn: sqlite3.Connection, client_order_id: str) -> StoredOrder | None:
    """One order as the order store held it, rebuilt from the journal (``None`` if never journaled)."""
    events = conn.execute("SELECT kind, order_id, symbol, side, qty, price, ts_ms, message FROM order_events "
                          "WHERE client_order_id = ? ORDER BY seq", (client_order_id,)).fetchall()
    if not events:
        return None
    grids = read_grids(conn)
    kind, order_id, symbol, side, qty, price, created, message = events[0]
    tick, lot = _grid(grids, symbol, qty)
    order = StoredOrder(client_order_id, symbol, Side(side), order_amount(qty, lot), order_amount(price, tick),
                        created)
    order.order_id = order_id
    order.message = message
    order.state = OrderState.REJECTED if kind == "rejected" else OrderState.OPEN
    for kind, _, _, _, _, _, ts, _ in events[1:]:
        order.updated_ms = ts
        if kind == "canceled":
            order.state = OrderState.CANCELED
    for fill_qty, ts in conn.execute("SELECT qty, ts_ms FROM fills WHERE client_order_id = ? ORDER BY seq",
                                     (client_order_id,)):
        order.filled_qty += fill_amount(fill_qty, _grid(grids, symbol, fill_qty)[1])
        order.updated_ms = max(order.updated_ms, ts)
    if order.state is OrderState.OPEN and order.filled_qty:
        order.state = OrderState.FILLED if order.filled_qty == order.qty else OrderState.PARTIALLY_FILLED
    return order


class JournalReader:
    """A read-only view of one journal (validated on open)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = open_readonly(path)
        self.run = read_run(self.conn, str(path))

    def orders(self) -> list[JournaledOrder]:
        return load_orders(self.conn)

    def fills(self) -> Iterator[JournaledFill]:
        return iter_fills(self.conn)

    def fill_events(self) -> Iterator[FillEvent]:
        return iter_fill_events(self.conn)

    def report(self) -> bytes:
        """The stored report of a complete run."""
        if self.run.report is None:
            raise JournalError("the journaled run is not complete: it has no report yet "
                               "(continue it with `mmexec shadow --resume`)", source=str(self.path))
        return self.run.report

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "Checkpoint",
    "JournalReader",
    "JournaledFill",
    "JournaledOrder",
    "RunRecord",
    "fill_amount",
    "iter_fill_events",
    "iter_fills",
    "last_checkpoint",
    "load_journal_report",
    "load_order",
    "load_orders",
    "order_amount",
    "read_grids",
    "read_run",
]


def load_journal_report(path: str | Path) -> dict[str, Any]:
    """The report stored in the journal of a complete run, as exact values (like a report file's)."""
    with JournalReader(Path(path)) as reader:
        data = reader.report()
    report = json.loads(data, parse_float=Decimal)
    if not isinstance(report, dict):
        raise JournalError("the journal's report is not a JSON object", source=str(path))
    return report
