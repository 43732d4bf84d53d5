"""RuntimeRiskMonitor: worst-case pre-trade limits, positions, and the edge freeze (kill switch).

Worst case, per symbol: a new order is allowed only if the current position plus every open order on the
same side plus this order, all filling at their prices, stays within ``max_inventory_usd_per_symbol``:

    BUY :  |pos * price + open_buy_notional + qty * price|  <= max_inv
    SELL:  |pos * price - open_sell_notional - qty * price| <= max_inv

and the sum over all symbols of each symbol's worst case (this symbol with the new order; every other symbol
at the larger of its all-buys-fill and all-sells-fill exposure, valued at its latest mid -- :meth:`mark_mid`,
or the last fill price before any mid) stays
within ``max_total_notional_usd``. Open exposure is reserved and released with :meth:`reserve`
(fills release it through :meth:`on_execution`).

Freeze: an edge below ``edge_freeze_threshold_bps`` freezes trading (the execution loop then cancels every
open order). The freeze is latched: it lifts only through :meth:`unfreeze` (the loop does that after
``unfreeze_after_ms`` when configured).

Fixed point: each symbol's exposure is kept in integers on its grid -- the position in lots, open notional in
ticks x lots, the mark in half ticks (bid + ask ticks) -- and its worst case in a common quantum ``10**-k`` of
the quote currency, so a decision is integer arithmetic. The limits become integers once (rounded down in those
units: ``worst > limit`` for integers is exactly ``worst * unit > limit``). The loop registers each instrument's
grid (:meth:`set_grid`) and calls the integer methods (:meth:`exposure`, :meth:`check`, :meth:`reserve_ticks`,
:meth:`fill_ticks`); the Decimal methods convert at the edge, refining a symbol's grid to a finer power of ten
when a value is not on it (never rounding).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from mypy_extensions import mypyc_attr

from mmexec.engine.models import Number, Side, to_decimal
from mmexec.money import MONEY_CONTEXT, decimal_at, plain, precision_of

FREEZE_REASON_EDGE = "Edge below threshold"
FREEZE_REASON_INVALID_EDGE = "Edge signal is not a number"
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HALF = Decimal("0.5")
_FREEZE_LOG_LIMIT = 100


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class FreezeEvent:
    symbol: str
    reason: str
    edge_bps: Decimal | None  # None when the signal was not a finite number
    threshold_bps: Decimal
    timestamp_ms: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "reason": self.reason,
            "edge_bps": self.edge_bps,
            "threshold_bps": self.threshold_bps,
            "timestamp_ms": self.timestamp_ms,
        }


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class Exposure:
    """One symbol's exposure on its grid (see the module docstring); a handle for the integer methods."""

    __slots__ = ("f", "limit", "lot", "lot_scale", "mark", "mark_key", "mid_scale", "open_buy", "open_sell", "pos",
                 "scaled", "symbol", "tick", "used", "worst")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.tick = _ONE
        self.lot = _ONE
        self.pos = 0  # lots
        self.open_buy = 0  # ticks x lots
        self.open_sell = 0
        self.mark = 0  # half ticks: the mark price is mark * tick / 2
        self.mark_key = -1  # bid + ask ticks of the mid the mark was last set from (-1: set from a fill)
        # grid ticks / lots per tick / lot of the grid registered with set_grid, which mark_mid and the
        # integer methods use (1 unless a decimal off that grid refined it)
        self.mid_scale = 1
        self.lot_scale = 1
        self.scaled = False
        self.worst = 0  # max(|pos*mark + 2*open_buy|, |pos*mark - 2*open_sell|) * f, in the monitor's quantum
        self.f = 1  # quanta per half tick x lot
        self.limit = 0  # max_inventory_usd_per_symbol in half ticks x lots, rounded down
        self.used = False  # reserved, filled or marked at least once (listed in positions)

    @property
    def fresh(self) -> bool:
        return not (self.pos or self.open_buy or self.open_sell or self.mark)


def exact_edge(value: Decimal | float | int, threshold: Decimal) -> Decimal | None:
    """The edge a freeze decision compared, as a decimal that never contradicts it.

    A float edge is written as its shortest round-tripping decimal (``repr``) unless that would reach the
    threshold the float was below; then as its exact binary value.
    """
    edge = to_decimal(value)
    if not edge.is_finite():
        return None
    if isinstance(value, float) and edge >= threshold:
        return Decimal(value)
    return edge


def edge_at_or_above(edge: Decimal | float | int, threshold: Decimal) -> bool:
    """``edge >= threshold``, where a NaN edge is never at or above anything."""
    if edge != edge:  # noqa: PLR0124 -- NaN (float or Decimal)
        return False
    return edge >= threshold


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: mmexec.compat subclasses it
class RuntimeRiskMonitor:
    """Pre-trade checks, position tracking and the edge-based freeze."""

    def __init__(
        self,
        max_inventory_usd_per_symbol: Number,
        max_total_notional_usd: Number,
        edge_freeze_threshold_bps: Number,
    ) -> None:
        self.max_inventory_usd_per_symbol = to_decimal(max_inventory_usd_per_symbol)
        self.max_total_notional_usd = to_decimal(max_total_notional_usd)
        self.edge_freeze_threshold_bps = to_decimal(edge_freeze_threshold_bps)
        # edge values are compared as given (float vs Decimal comparisons are exact)
        for name in ("max_inventory_usd_per_symbol", "max_total_notional_usd"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not self.edge_freeze_threshold_bps.is_finite():
            raise ValueError("edge_freeze_threshold_bps must be finite")
        self._x: dict[str, Exposure] = {}
        self._places = 0  # the common quantum of worst cases is 10**-_places of the quote currency
        self._limit_total = _floor(self.max_total_notional_usd)
        self._total_worst = 0
        # True while trading is frozen. A plain attribute (the loop reads it for every quote, where a property
        # call costs ~8 % of the busy workload): read it, change it only through freeze() / unfreeze().
        self.frozen = False
        self.version = 0  # bumped by every change that can alter a pre-trade decision
        self.blocks_total = 0
        self.freezes_total = 0
        self.unfreezes_total = 0
        self.last_freeze_reason: str | None = None
        self.last_freeze_symbol: str | None = None
        self.last_block_reason: str | None = None
        self.freeze_log: deque[FreezeEvent] = deque(maxlen=_FREEZE_LOG_LIMIT)
        # latest edge per symbol (the execution loop writes it directly on its hot path)
        self.latest_edges: dict[str, Decimal | float | int] = {}

    # ---------------------------------------------------------------- grids (fixed point)
    def _exposure(self, symbol: str) -> Exposure:
        x = self._x.get(symbol)
        if x is None:
            x = self._x[symbol] = Exposure(symbol)
            self._set_units(x)
        return x

    def exposure(self, symbol: str) -> Exposure:
        """The symbol's exposure handle (created on first use), for the integer methods."""
        return self._exposure(symbol)

    def _set_units(self, x: Exposure) -> None:
        """Recompute ``x``'s quantum factor and limit; refine the common quantum first if ``x`` needs it."""
        half = MONEY_CONTEXT.multiply(MONEY_CONTEXT.multiply(x.tick, x.lot), _HALF)
        places = precision_of(half)
        if places > self._places:  # every worst case is rescaled to the finer quantum
            scale = 10 ** (places - self._places)
            for other in self._x.values():
                other.worst *= scale
                other.f *= scale
            self._total_worst *= scale
            self._places = places
            self._limit_total = _floor(MONEY_CONTEXT.scaleb(self.max_total_notional_usd, places))
        x.f = int(MONEY_CONTEXT.scaleb(half, self._places))
        x.limit = _floor(MONEY_CONTEXT.divide(self.max_inventory_usd_per_symbol, half))

    def _regrid(self, x: Exposure, tick: Decimal, lot: Decimal) -> None:
        """Move ``x`` to a finer grid (``tick`` divides its tick, ``lot`` its lot): values scale, never round."""
        dt = int(MONEY_CONTEXT.divide(x.tick, tick))
        dl = int(MONEY_CONTEXT.divide(x.lot, lot))
        x.pos *= dl
        x.open_buy *= dt * dl
        x.open_sell *= dt * dl
        x.mark *= dt
        x.mid_scale *= dt
        x.lot_scale *= dl
        x.scaled = x.mid_scale != 1 or x.lot_scale != 1
        x.tick, x.lot = tick, lot
        self._set_units(x)

    def _fit(self, x: Exposure, qty: Decimal | None = None, price: Decimal | None = None,
             notional: Decimal | None = None) -> None:
        """Refine ``x``'s grid (to powers of ten) until ``qty`` lots, ``price`` ticks and ``notional`` are whole."""
        ctx = MONEY_CONTEXT
        tick, lot = x.tick, x.lot
        if price is not None and ctx.remainder(price, tick):
            tick = _ONE.scaleb(-max(precision_of(tick), precision_of(price)))
        if qty is not None and ctx.remainder(qty, lot):
            lot = _ONE.scaleb(-max(precision_of(lot), precision_of(qty)))
        if notional is not None and ctx.remainder(notional, ctx.multiply(tick, lot)):
            tick = _ONE.scaleb(-max(precision_of(tick), precision_of(notional)))
            lot = _ONE.scaleb(-precision_of(lot))
        if tick != x.tick or lot != x.lot:
            self._regrid(x, tick, lot)

    def set_grid(self, symbol: str, tick: Decimal, lot: Decimal | None = None) -> None:
        """Register a symbol's tick (and lot) size: :meth:`mark_mid` takes mids in its ticks, and the integer
        methods take its ticks and lots."""
        x = self._exposure(symbol)
        lot = x.lot if lot is None else lot
        if x.fresh:
            x.tick, x.lot = tick, lot
            self._set_units(x)
        else:
            ctx = MONEY_CONTEXT
            if ctx.remainder(x.tick, tick) or ctx.remainder(x.lot, lot):
                raise ValueError(f"{symbol}: the grid (tick {tick}, lot {lot}) does not refine the one in use "
                                 f"(tick {x.tick}, lot {x.lot})")
            self._regrid(x, tick, lot)
        x.mid_scale = x.lot_scale = 1
        x.scaled = False

    def mark_ticks(self, symbol: str, bid_plus_ask_ticks: int, tick: Decimal) -> None:
        """Revalue a symbol at the mid ``(bid + ask) / 2`` ticks of ``tick`` (registering that grid if needed)."""
        x = self._x.get(symbol)
        if x is None or x.tick != tick:
            self.set_grid(symbol, tick)
        self.mark_mid(self._x[symbol], bid_plus_ask_ticks)

    def mark_mid(self, x: Exposure, bid_plus_ask_ticks: int) -> None:
        """Value ``x`` at the mid ``(bid + ask) / 2`` (ticks of the registered grid) from now on: the loop calls
        this with every new mid, so the total limit values every symbol at its latest mid, incrementally.

        Once a symbol has a mid, fills no longer change its mark (before: the last fill price). A flat symbol's
        worst case does not depend on its mark. A new mark changes no quoting decision by itself, so
        :attr:`version` stays (a moved touch is requoted anyway).
        """
        x.mark_key = bid_plus_ask_ticks
        x.mark = mark = bid_plus_ask_ticks * x.mid_scale
        pos = x.pos
        if pos:  # (abs and max written as comparisons: this runs for most quotes)
            buy = pos * mark + 2 * x.open_buy
            sell = pos * mark - 2 * x.open_sell
            if buy < 0:
                buy = -buy
            if sell < 0:
                sell = -sell
            worst = (buy if buy >= sell else sell) * x.f
            self._total_worst += worst - x.worst
            x.worst = worst

    @property
    def latest_mids(self) -> dict[str, int]:
        """The latest mid per symbol as bid + ask ticks (symbols valued at a mid; see :meth:`mark_mid`)."""
        return {s: x.mark_key for s, x in self._x.items() if x.mark_key >= 0}

    def _update(self, x: Exposure) -> None:
        """Recompute ``x``'s worst case and the total after a change of position or open orders."""
        pos_usd = x.pos * x.mark
        buy = pos_usd + 2 * x.open_buy
        sell = pos_usd - 2 * x.open_sell
        if buy < 0:
            buy = -buy
        if sell < 0:
            sell = -sell
        worst = (buy if buy >= sell else sell) * x.f
        x.used = True
        self._total_worst += worst - x.worst
        x.worst = worst
        self.version += 1

    # ---------------------------------------------------------------- pre-trade
    def check(self, x: Exposure, is_buy: bool, lots: int, ticks: int, *, own_grid: bool = False) -> str | None:
        """:meth:`evaluate` in integers: ``lots`` at ``ticks`` of the grid registered for ``x`` (:meth:`set_grid`;
        ``own_grid``: of ``x``'s current grid)."""
        if self.frozen:
            return "frozen"
        if x.scaled and not own_grid:
            lots, ticks = lots * x.lot_scale, ticks * x.mid_scale
        pos_usd = x.pos * ticks * 2  # half ticks x lots
        order = 2 * lots * ticks
        if is_buy:
            before = pos_usd + 2 * x.open_buy
            worst = before + order
            other_side = pos_usd - 2 * x.open_sell
        else:
            before = pos_usd - 2 * x.open_sell
            worst = before - order
            other_side = pos_usd + 2 * x.open_buy
        # (abs and max written as comparisons: this runs for every order)
        if worst < 0:
            worst = -worst
        if before >= worst or -before >= worst:  # worst <= |before|
            return None  # it reduces its side's worst case (e.g. unwinds a position past the limit): never blocked
        if worst > x.limit:
            return "max_inventory_usd_per_symbol"
        if other_side < 0:
            other_side = -other_side
        if self._total_worst - x.worst + (worst if worst >= other_side else other_side) * x.f > self._limit_total:
            return "max_total_notional_usd"
        return None

    def evaluate(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> str | None:
        """The limit an order would break (``None`` if it fits). Pure: changes no state, counts nothing.

        An order that brings its side's worst case closer to zero (a sell against a long, a buy against a
        short) reduces exposure and is never blocked by a limit, only by a freeze.

        The answer depends only on (:attr:`version`, symbol, side, qty, price), so callers may cache it.
        """
        if self.frozen:
            return "frozen"
        x = self._x.get(symbol)
        if x is None:  # a symbol never seen: a throwaway exposure (it must not appear in positions)
            x = Exposure(symbol)
            self._set_units(x)
        self._fit(x, qty=qty, price=price)
        return self.check(x, side is Side.BUY, int(MONEY_CONTEXT.divide(qty, x.lot)),
                          int(MONEY_CONTEXT.divide(price, x.tick)), own_grid=True)

    def count_block(self, reason: str) -> None:
        """Record that an order was blocked for ``reason``."""
        self.blocks_total += 1
        self.last_block_reason = reason

    def reserve_ticks(self, x: Exposure, is_buy: bool, ticklots: int, *, own_grid: bool = False) -> None:
        """Add (or, negative, release) ``ticklots`` (ticks x lots of the registered grid; ``own_grid``: of
        ``x``'s current grid) of open notional on one side of ``x``."""
        if x.scaled and not own_grid:
            ticklots *= x.mid_scale * x.lot_scale
        if is_buy:
            x.open_buy += ticklots
        else:
            x.open_sell += ticklots
        self._update(x)

    def reserve(self, symbol: str, side: Side, notional: Decimal) -> None:
        """Add (or, negative, release) open notional on one side of a symbol."""
        x = self._exposure(symbol)
        self._fit(x, notional=notional)
        unit = MONEY_CONTEXT.multiply(x.tick, x.lot)
        self.reserve_ticks(x, side is Side.BUY, int(MONEY_CONTEXT.divide(notional, unit)), own_grid=True)

    # ---------------------------------------------------------------- post-trade
    def fill_ticks(self, x: Exposure, is_buy: bool, lots: int, ticks: int, order_ticks: int | None, *,
                   own_grid: bool = False) -> None:
        """A fill of ``lots`` at ``ticks`` (of the registered grid; ``own_grid``: of ``x``'s current grid): release
        its reservation at ``order_ticks`` (``None``: it reserved nothing, or its reservation is gone) and apply
        it; before any mid the symbol is marked at ``ticks``."""
        if x.scaled and not own_grid:
            lots, ticks = lots * x.lot_scale, ticks * x.mid_scale
            order_ticks = None if order_ticks is None else order_ticks * x.mid_scale
        if is_buy:
            if order_ticks is not None:
                x.open_buy -= lots * order_ticks
            x.pos += lots
        else:
            if order_ticks is not None:
                x.open_sell -= lots * order_ticks
            x.pos -= lots
        if x.mark_key < 0:  # no mid seen yet: value at the fill price
            x.mark = 2 * ticks
        self._update(x)

    def on_execution(self, symbol: str, side: Side, qty: Decimal, price: Decimal, order_price: Decimal) -> None:
        """A fill of an open order: release its reserved notional (at ``order_price``) and apply the fill."""
        x = self._exposure(symbol)
        self._fit(x, qty=qty, price=price)
        self._fit(x, price=order_price)
        div = MONEY_CONTEXT.divide
        self.fill_ticks(x, side is Side.BUY, int(div(qty, x.lot)), int(div(price, x.tick)),
                        int(div(order_price, x.tick)), own_grid=True)

    def apply_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        """Apply an execution that reserved nothing (or whose reservation is gone) and mark at ``price``."""
        x = self._exposure(symbol)
        self._fit(x, qty=qty, price=price)
        self.fill_ticks(x, side is Side.BUY, int(MONEY_CONTEXT.divide(qty, x.lot)),
                        int(MONEY_CONTEXT.divide(price, x.tick)), None, own_grid=True)

    def on_mark(self, symbol: str, price: Number) -> None:
        """Revalue a symbol at a new reference price (e.g. the last mid)."""
        x = self._exposure(symbol)
        mark = to_decimal(price)
        self._fit(x, price=mark)
        x.mark = 2 * int(MONEY_CONTEXT.divide(mark, x.tick))
        x.mark_key = -1
        self._update(x)

    # ---------------------------------------------------------------- freeze
    def on_edge_update(self, symbol: str, net_bps: Number, *, timestamp_ms: int | None = None) -> bool:
        """Record the latest edge; returns True when this update froze trading."""
        # Compared as given (float/Decimal comparisons are exact); converted only when it freezes.
        value = to_decimal(net_bps) if isinstance(net_bps, str) else net_bps
        if value != value:  # noqa: PLR0124 -- NaN: a broken signal must not crash the kill switch; fail safe
            self.latest_edges[symbol] = value
            if self.frozen:
                return False
            self.freeze(FREEZE_REASON_INVALID_EDGE, symbol, edge=None, timestamp_ms=timestamp_ms)
            return True
        self.latest_edges[symbol] = value
        if self.frozen or value >= self.edge_freeze_threshold_bps:
            return False
        self.freeze(FREEZE_REASON_EDGE, symbol, edge=exact_edge(value, self.edge_freeze_threshold_bps),
                    timestamp_ms=timestamp_ms)
        return True

    def freeze(self, reason: str, symbol: str, *, edge: Decimal | None = None, timestamp_ms: int | None = None) -> None:
        self.frozen = True
        self.version += 1
        self.freezes_total += 1
        self.last_freeze_reason = reason
        self.last_freeze_symbol = symbol
        self.freeze_log.append(FreezeEvent(symbol, reason, edge, self.edge_freeze_threshold_bps, timestamp_ms))

    def unfreeze(self) -> bool:
        """Lift a freeze (operator action or the loop's cool-down). Returns True if it was frozen."""
        if not self.frozen:
            return False
        self.frozen = False
        self.version += 1
        self.unfreezes_total += 1
        return True

    def edges_recovered(self) -> bool:
        """True when the latest edge of every symbol seen is at or above the threshold."""
        return all(edge_at_or_above(e, self.edge_freeze_threshold_bps) for e in self.latest_edges.values())

    # ---------------------------------------------------------------- queries
    def get_positions(self) -> dict[str, Decimal]:
        return {s: _lots(x, x.pos) for s, x in self._x.items() if x.used}

    def position(self, symbol: str) -> Decimal:
        """Signed base position of ``symbol`` (zero when never traded)."""
        x = self._x.get(symbol)
        return _lots(x, x.pos) if x is not None else _ZERO

    def open_exposure(self, symbol: str) -> tuple[Decimal, Decimal]:
        x = self._exposure(symbol)
        unit = MONEY_CONTEXT.multiply(x.tick, x.lot)
        return plain(MONEY_CONTEXT.multiply(unit, x.open_buy)), plain(MONEY_CONTEXT.multiply(unit, x.open_sell))

    def worst_case_total(self) -> Decimal:
        return decimal_at(self._total_worst, self._places)


def _lots(x: Exposure, lots: int) -> Decimal:
    return plain(MONEY_CONTEXT.multiply(x.lot, lots))


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))
