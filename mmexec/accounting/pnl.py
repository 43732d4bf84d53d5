"""Realized and unrealized PnL of a run, by the average-cost method, fill by fill (no fills are kept).

Per symbol the tracker keeps the signed position ``qty`` and its signed ``cost`` (sum of ``qty * price`` of
the open position; the average entry price is ``cost / qty``):

- a fill in the direction of the position (or from flat) adds to both;
- a fill against it closes ``x`` of the position at ``price`` and realizes ``x * price - cost * x / qty``
  (for a long: ``x * (price - avg)``); closing the whole position removes exactly ``cost``, so a round trip
  ``buy q @ p1, sell q @ p2`` realizes exactly ``q * (p2 - p1)``; the rest of a fill that flips the position
  opens a new one at ``price``.

Unrealized PnL is ``qty * mark - cost`` at the symbol's last mid. ``net = realized + unrealized - fees +
rebates``, exactly. Additions, subtractions and products run in :data:`MONEY_CONTEXT` (160 digits, ``Inexact``
trapped: exact or an error). The one division -- the cost removed by a *partial* close, ``cost * x / qty``,
when the average entry price has no finite decimal expansion -- is rounded half-even to
:data:`DIVISION_PLACES` decimal places; that rounding moves between realized and unrealized and never changes
their sum, which always equals the cash flows plus the position at the mark, exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any, NamedTuple

from mmexec.engine.models import FillEvent, Number, Position, to_decimal
from mmexec.money import MONEY_CONTEXT, decimal_at, div_half_even, precision_of, raw_at

# 1e-10 (of the quote currency) is far below any real tick, and keeps every PnL figure short enough (<= 16
# significant digits for amounts under a million) to survive the JSON edge exactly, so the report's own numbers
# satisfy net = realized + unrealized - fees + rebates, not just the Decimals behind them.
DIVISION_PLACES = 10
_DIVISION_CONTEXT = Context(prec=200, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_QUANTUM = Decimal(1).scaleb(-DIVISION_PLACES)
_ZERO = Decimal(0)
_FOLD_AT = 8192  # queued fill values (two per fill) before a book applies them


def _divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-even to :data:`DIVISION_PLACES` places (the only rounding)."""
    ctx = _DIVISION_CONTEXT
    return ctx.quantize(ctx.divide(numerator, denominator), _QUANTUM)


class _Book:
    """One symbol's open position, its cost, the PnL realized so far and the last traded price, fixed-point.

    Quantities are integers of ``10**-qp``, prices of ``10**-pp``; cost and realized PnL of ``10**-cp`` with
    ``cp = max(qp + pp, DIVISION_PLACES)``, so ``qty * price`` and a rounded share of the cost are both exact
    integers. A fill written with more decimal places than the book holds refines the scale (no rounding).
    The integer path (:meth:`PnlTracker.on_ticks`) multiplies ticks and lots by the grid's raw units.
    """

    __slots__ = ("cost", "cp", "last_price", "lot_raw", "pending", "pp", "qp", "qty", "realized", "scale", "tick_raw")

    def __init__(self, qp: int = 0, pp: int = 0) -> None:
        self.qp = qp
        self.pp = pp
        self.cp = max(qp + pp, DIVISION_PLACES)
        self.scale = 10 ** (self.cp - qp - pp)  # qty * price (raw) -> cost units
        self.qty = 0
        self.cost = 0
        self.realized = 0
        self.last_price = 0
        self.lot_raw = 1  # one lot / one tick of the registered grid, in 10**-qp / 10**-pp
        self.tick_raw = 1
        self.pending: list[int] = []  # queued fills: signed lots, ticks, ... (see queue)

    def refine(self, qp: int, pp: int) -> None:
        """Hold at least ``qp`` / ``pp`` decimal places of quantity / price (scales every raw value)."""
        qp, pp = max(qp, self.qp), max(pp, self.pp)
        if (qp, pp) == (self.qp, self.pp):
            return
        self.fold()  # queued fills are in units of the current grid
        dq, dp = 10 ** (qp - self.qp), 10 ** (pp - self.pp)
        cp = max(qp + pp, DIVISION_PLACES)
        dc = 10 ** (cp - self.cp)
        self.qty *= dq
        self.lot_raw *= dq
        self.last_price *= dp
        self.tick_raw *= dp
        self.cost *= dc
        self.realized *= dc
        self.qp, self.pp, self.cp = qp, pp, cp
        self.scale = 10 ** (cp - qp - pp)

    def apply(self, signed_qty: int, price: int) -> int:
        """Trade ``signed_qty`` (positive buys, raw) at ``price`` (raw); returns the raw PnL it realizes."""
        self.fold()
        return self._apply_pairs([signed_qty, price], 1, 1)

    def queue(self, signed_lots: int, ticks: int) -> None:
        """A fill of ``signed_lots`` at ``ticks`` of the registered grid, applied later, in order (:meth:`fold`):
        a list append per fill, and one tight loop per batch."""
        pending = self.pending
        pending.append(signed_lots)
        pending.append(ticks)
        if len(pending) >= _FOLD_AT:
            self.fold()

    def fold(self) -> None:
        """Apply the queued fills (every reader of the book calls this first)."""
        pending = self.pending
        if pending:
            self.pending = []
            self._apply_pairs(pending, self.lot_raw, self.tick_raw)

    def _apply_pairs(self, pairs: list[int], lot_raw: int, tick_raw: int) -> int:
        """Apply fills given as a flat list ``[signed_qty, price, ...]`` in units of ``lot_raw`` / ``tick_raw``
        (raw), in order; returns the raw PnL the last one realized (the average-cost method, exactly)."""
        scale = self.scale
        step = 10 ** (self.cp - DIVISION_PLACES)
        qty, cost, total, price = self.qty, self.cost, self.realized, self.last_price
        realized = 0
        values = iter(pairs)
        for signed, at in zip(values, values, strict=True):
            signed_qty = signed * lot_raw
            price = at * tick_raw
            realized = 0
            if qty and (qty > 0) != (signed_qty > 0):
                # Against the position: close min(|signed_qty|, |qty|) of it.
                closing = -signed_qty if (signed_qty if signed_qty > 0 else -signed_qty) <= (
                    qty if qty > 0 else -qty) else qty
                # A full close removes exactly the cost (no division); a partial one its share of it, rounded
                # half-even to DIVISION_PLACES.
                removed = cost if closing == qty else div_half_even(cost * closing, qty * step) * step
                realized = closing * price * scale - removed
                total += realized
                qty -= closing
                cost -= removed
                signed_qty += closing  # what is left opens a position the other way
            if signed_qty:
                qty += signed_qty
                cost += signed_qty * price * scale
        self.qty, self.cost, self.realized, self.last_price = qty, cost, total, price
        return realized

    def apply_decimal(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """:meth:`apply` for exact decimals (the scale is refined to hold them)."""
        self.refine(precision_of(signed_qty), precision_of(price))
        return decimal_at(self.apply(raw_at(signed_qty, self.qp), raw_at(price, self.pp)), self.cp)

    @property
    def position(self) -> Decimal:
        return decimal_at(self.qty, self.qp)

    @property
    def realized_pnl(self) -> Decimal:
        return decimal_at(self.realized, self.cp)

    @property
    def last_price_decimal(self) -> Decimal:
        return decimal_at(self.last_price, self.pp)

    def avg_price(self) -> Decimal:
        return _ZERO if self.qty == 0 else _divide(decimal_at(self.cost, self.cp), self.position)

    def unrealized(self, mark: Decimal) -> Decimal:
        return MONEY_CONTEXT.subtract(MONEY_CONTEXT.multiply(self.position, mark), decimal_at(self.cost, self.cp))


class Holding(NamedTuple):
    """One symbol's open position as the tracker holds it: signed ``qty``, its signed ``cost`` and the PnL
    realized so far (immutable values: a snapshot, e.g. for the timeline)."""

    qty: Decimal
    cost: Decimal
    realized: Decimal


_FLAT = Holding(_ZERO, _ZERO, _ZERO)


class PnlTracker:
    """Positions and PnL per symbol, updated by :meth:`on_fill`; memory grows with symbols, not fills."""

    __slots__ = ("_books", "_grids")

    def __init__(self) -> None:
        self._books: dict[str, _Book] = {}
        self._grids: dict[str, tuple[Decimal, Decimal]] = {}

    def _book(self, symbol: str) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = _Book()
        return book

    def on_fill(self, fill: FillEvent) -> Decimal:
        """Apply one fill; returns the PnL it realized (zero when it only opens or adds)."""
        signed = fill.qty if fill.side.sign > 0 else fill.qty.copy_negate()  # exact, unlike unary minus
        return self._book(fill.symbol).apply_decimal(signed, fill.price)

    def set_grid(self, symbol: str, tick_size: Decimal, lot_size: Decimal) -> None:
        """Register a symbol's tick and lot sizes, for :meth:`on_ticks` (a symbol appears once it trades)."""
        self._grids[symbol] = (tick_size, lot_size)
        book = self._books.get(symbol)
        if book is not None:
            self._use_grid(book, tick_size, lot_size)

    @staticmethod
    def _use_grid(book: _Book, tick_size: Decimal, lot_size: Decimal) -> None:
        book.fold()  # queued fills are in units of the grid in use
        book.refine(precision_of(lot_size), precision_of(tick_size))
        book.lot_raw = raw_at(lot_size, book.qp)
        book.tick_raw = raw_at(tick_size, book.pp)

    def on_ticks(self, symbol: str, is_buy: bool, lots: int, ticks: int, is_maker: bool = True,
                 timestamp_ms: int = 0) -> None:
        """Apply one fill given in lots and ticks of the symbol's grid (see :meth:`set_grid`): integers only."""
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = _Book()
            self._use_grid(book, *self._grids[symbol])
        book.queue(lots if is_buy else -lots, ticks)

    def _fold(self) -> None:
        for book in self._books.values():
            book.fold()

    def symbols(self) -> list[str]:
        return sorted(self._books)

    def holding(self, symbol: str) -> Holding:
        """``symbol``'s position, cost and realized PnL now (all zero before its first fill)."""
        book = self._books.get(symbol)
        if book is None:
            return _FLAT
        book.fold()
        return Holding(book.position, decimal_at(book.cost, book.cp), book.realized_pnl)

    def position(self, symbol: str) -> Position:
        book = self._books.get(symbol)
        if book is None:
            return Position(symbol=symbol, qty=_ZERO)
        book.fold()
        return Position(symbol=symbol, qty=book.position, avg_price=book.avg_price())

    def realized(self, symbol: str | None = None) -> Decimal:
        """Realized PnL of ``symbol``, or of all symbols."""
        self._fold()
        if symbol is not None:
            book = self._books.get(symbol)
            return _ZERO if book is None else book.realized_pnl
        total = _ZERO
        for book in self._books.values():
            total = MONEY_CONTEXT.add(total, book.realized_pnl)
        return total

    def section(
        self,
        last_mids: Mapping[str, Number],
        fees: Decimal | Mapping[str, Decimal] = _ZERO,
        rebates: Decimal | Mapping[str, Decimal] = _ZERO,
    ) -> dict[str, Any]:
        """The run report's ``pnl`` section.

        ``last_mids`` marks each open position (a symbol without a mid is marked at its last fill price).
        ``fees`` and ``rebates`` are totals, or per-symbol mappings (e.g. ``FeeLedger.fees_by_symbol()``):
        with mappings every ``by_symbol`` entry also carries its ``fees``, ``rebates`` and ``net``.
        ``total.net == total.realized + total.unrealized - total.fees + total.rebates``, exactly.
        """
        self._fold()
        ctx = MONEY_CONTEXT
        fee_map = fees if isinstance(fees, Mapping) else None
        rebate_map = rebates if isinstance(rebates, Mapping) else None
        if (fee_map is None) != (rebate_map is None):
            raise TypeError("fees and rebates must both be totals or both be per-symbol mappings")
        symbols = set(self._books) | set(fee_map or {}) | set(rebate_map or {})
        by_symbol: dict[str, dict[str, Any]] = {}
        total_realized = total_unrealized = _ZERO
        for sym in sorted(symbols):
            book = self._books.get(sym) or _Book()
            mid = last_mids.get(sym)
            mark = to_decimal(mid) if mid is not None else book.last_price_decimal
            unrealized = book.unrealized(mark)
            realized = book.realized_pnl
            entry: dict[str, Any] = {
                "position": book.position,
                "avg_entry_price": book.avg_price(),
                "mark_price": mark,
                "realized": realized,
                "unrealized": unrealized,
                "gross": ctx.add(realized, unrealized),
            }
            if fee_map is not None and rebate_map is not None:
                sym_fees = to_decimal(fee_map.get(sym, _ZERO))
                sym_rebates = to_decimal(rebate_map.get(sym, _ZERO))
                entry["fees"], entry["rebates"] = sym_fees, sym_rebates
                entry["net"] = net_pnl(realized, unrealized, sym_fees, sym_rebates)
            by_symbol[sym] = entry
            total_realized = ctx.add(total_realized, realized)
            total_unrealized = ctx.add(total_unrealized, unrealized)
        total_fees = _total(fees)
        total_rebates = _total(rebates)
        return {
            "method": "average_cost",
            "by_symbol": by_symbol,
            "total": {
                "realized": total_realized,
                "unrealized": total_unrealized,
                "gross": ctx.add(total_realized, total_unrealized),
                "fees": total_fees,
                "rebates": total_rebates,
                "net": net_pnl(total_realized, total_unrealized, total_fees, total_rebates),
            },
        }


def net_pnl(realized: Decimal, unrealized: Decimal, fees: Decimal, rebates: Decimal) -> Decimal:
    """``realized + unrealized - fees + rebates`` in :data:`MONEY_CONTEXT`."""
    ctx = MONEY_CONTEXT
    return ctx.add(ctx.subtract(ctx.add(realized, unrealized), fees), rebates)


def _total(value: Decimal | Mapping[str, Decimal]) -> Decimal:
    if isinstance(value, Mapping):
        total = _ZERO
        for item in value.values():
            total = MONEY_CONTEXT.add(total, to_decimal(item))
        return total
    return to_decimal(value)
