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
from mmexec.money import MONEY_CONTEXT

# 1e-10 (of the quote currency) is far below any real tick, and keeps every PnL figure short enough (<= 16
# significant digits for amounts under a million) to survive the JSON edge exactly, so the report's own numbers
# satisfy net = realized + unrealized - fees + rebates, not just the Decimals behind them.
DIVISION_PLACES = 10
_DIVISION_CONTEXT = Context(prec=200, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_QUANTUM = Decimal(1).scaleb(-DIVISION_PLACES)
_ZERO = Decimal(0)


def _divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-even to :data:`DIVISION_PLACES` places (the only rounding)."""
    ctx = _DIVISION_CONTEXT
    return ctx.quantize(ctx.divide(numerator, denominator), _QUANTUM)


class _Book:
    """One symbol's open position, its cost, the PnL realized so far and the last traded price."""

    __slots__ = ("cost", "last_price", "qty", "realized")

    def __init__(self) -> None:
        self.qty = _ZERO
        self.cost = _ZERO
        self.realized = _ZERO
        self.last_price = _ZERO

    def apply(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Trade ``signed_qty`` (positive buys) at ``price``; returns the PnL it realizes."""
        ctx = MONEY_CONTEXT
        self.last_price = price
        realized = _ZERO
        if self.qty != 0 and (self.qty > 0) != (signed_qty > 0):
            # Against the position: close min(|signed_qty|, |qty|) of it.
            closing = signed_qty.copy_negate() if signed_qty.copy_abs() <= self.qty.copy_abs() else self.qty
            # A full close removes exactly the cost (no division); a partial one its share of it.
            removed = self.cost if closing == self.qty else _divide(ctx.multiply(self.cost, closing), self.qty)
            realized = ctx.subtract(ctx.multiply(closing, price), removed)
            self.realized = ctx.add(self.realized, realized)
            self.qty = ctx.subtract(self.qty, closing)
            self.cost = ctx.subtract(self.cost, removed)
            signed_qty = ctx.add(signed_qty, closing)  # what is left opens a position the other way
        if signed_qty != 0:
            self.qty = ctx.add(self.qty, signed_qty)
            self.cost = ctx.add(self.cost, ctx.multiply(signed_qty, price))
        return realized

    def avg_price(self) -> Decimal:
        return _ZERO if self.qty == 0 else _divide(self.cost, self.qty)

    def unrealized(self, mark: Decimal) -> Decimal:
        return MONEY_CONTEXT.subtract(MONEY_CONTEXT.multiply(self.qty, mark), self.cost)


class Holding(NamedTuple):
    """One symbol's open position as the tracker holds it: signed ``qty``, its signed ``cost`` and the PnL
    realized so far (immutable values: a snapshot, e.g. for the timeline)."""

    qty: Decimal
    cost: Decimal
    realized: Decimal


_FLAT = Holding(_ZERO, _ZERO, _ZERO)


class PnlTracker:
    """Positions and PnL per symbol, updated by :meth:`on_fill`; memory grows with symbols, not fills."""

    __slots__ = ("_books",)

    def __init__(self) -> None:
        self._books: dict[str, _Book] = {}

    def on_fill(self, fill: FillEvent) -> Decimal:
        """Apply one fill; returns the PnL it realized (zero when it only opens or adds)."""
        book = self._books.get(fill.symbol)
        if book is None:
            book = self._books[fill.symbol] = _Book()
        signed = fill.qty if fill.side.sign > 0 else fill.qty.copy_negate()  # exact, unlike unary minus
        return book.apply(signed, fill.price)

    def symbols(self) -> list[str]:
        return sorted(self._books)

    def holding(self, symbol: str) -> Holding:
        """``symbol``'s position, cost and realized PnL now (all zero before its first fill)."""
        book = self._books.get(symbol)
        return _FLAT if book is None else Holding(book.qty, book.cost, book.realized)

    def position(self, symbol: str) -> Position:
        book = self._books.get(symbol)
        if book is None:
            return Position(symbol=symbol, qty=_ZERO)
        return Position(symbol=symbol, qty=book.qty, avg_price=book.avg_price())

    def realized(self, symbol: str | None = None) -> Decimal:
        """Realized PnL of ``symbol``, or of all symbols."""
        if symbol is not None:
            book = self._books.get(symbol)
            return _ZERO if book is None else book.realized
        total = _ZERO
        for book in self._books.values():
            total = MONEY_CONTEXT.add(total, book.realized)
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
            mark = to_decimal(mid) if mid is not None else book.last_price
            unrealized = book.unrealized(mark)
            entry: dict[str, Any] = {
                "position": book.qty,
                "avg_entry_price": book.avg_price(),
                "mark_price": mark,
                "realized": book.realized,
                "unrealized": unrealized,
                "gross": ctx.add(book.realized, unrealized),
            }
            if fee_map is not None and rebate_map is not None:
                sym_fees = to_decimal(fee_map.get(sym, _ZERO))
                sym_rebates = to_decimal(rebate_map.get(sym, _ZERO))
                entry["fees"], entry["rebates"] = sym_fees, sym_rebates
                entry["net"] = net_pnl(book.realized, unrealized, sym_fees, sym_rebates)
            by_symbol[sym] = entry
            total_realized = ctx.add(total_realized, book.realized)
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
