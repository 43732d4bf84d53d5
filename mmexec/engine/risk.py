"""RuntimeRiskMonitor: worst-case pre-trade limits, positions, and the edge freeze (kill switch).

Worst case, per symbol: a new order is allowed only if the current position plus every open order on the
same side plus this order, all filling at their prices, stays within ``max_inventory_usd_per_symbol``:

    BUY :  |pos * price + open_buy_notional + qty * price|  <= max_inv
    SELL:  |pos * price - open_sell_notional - qty * price| <= max_inv

and the sum over all symbols of each symbol's worst case (this symbol with the new order; every other symbol
at the larger of its all-buys-fill and all-sells-fill exposure, valued at its latest mid -- :attr:`latest_mids`,
or the last fill price before any mid) stays
within ``max_total_notional_usd``. Open exposure is reserved and released with :meth:`reserve`
(fills release it through :meth:`on_execution`).

Freeze: an edge below ``edge_freeze_threshold_bps`` freezes trading (the execution loop then cancels every
open order). The freeze is latched: it lifts only through :meth:`unfreeze` (the loop does that after
``unfreeze_after_ms`` when configured). All arithmetic is Decimal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mmexec.engine.models import Number, Side, to_decimal

FREEZE_REASON_EDGE = "Edge below threshold"
FREEZE_REASON_INVALID_EDGE = "Edge signal is not a number"
_ZERO = Decimal(0)
_FREEZE_LOG_LIMIT = 100


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


class _Exposure:
    __slots__ = ("mark", "mark_key", "open_buy", "open_sell", "pos", "worst")

    def __init__(self) -> None:
        self.pos = _ZERO
        self.mark = _ZERO
        self.mark_key = -1  # bid + ask ticks of the mid the mark was last set from (-1: set from a fill)
        self.open_buy = _ZERO
        self.open_sell = _ZERO
        self.worst = _ZERO  # max(|pos*mark + open_buy|, |pos*mark - open_sell|), kept by RuntimeRiskMonitor._update


_NO_EXPOSURE = _Exposure()


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
        self._x: dict[str, _Exposure] = {}
        self._total_worst = _ZERO
        self._frozen = False
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
        # latest mid per symbol as bid + ask ticks (written by the loop each step; see set_grid, _refresh_marks)
        self.latest_mids: dict[str, int] = {}
        self._half_ticks: dict[str, Decimal] = {}

    # ---------------------------------------------------------------- helpers
    def _exposure(self, symbol: str) -> _Exposure:
        x = self._x.get(symbol)
        if x is None:
            x = self._x[symbol] = _Exposure()
        return x

    def _update(self, x: _Exposure) -> None:
        pos_usd = x.pos * x.mark
        worst = max(abs(pos_usd + x.open_buy), abs(pos_usd - x.open_sell))
        self._total_worst += worst - x.worst
        x.worst = worst
        self.version += 1

    def set_grid(self, symbol: str, tick: Decimal) -> None:
        """Register a symbol's tick size, so :attr:`latest_mids` (in ticks) can value it."""
        self._half_ticks[symbol] = tick / 2

    def mark_ticks(self, symbol: str, bid_plus_ask_ticks: int, tick: Decimal) -> None:
        """Revalue a symbol at the mid ``(bid + ask) / 2`` ticks (the loop writes :attr:`latest_mids` instead)."""
        self.set_grid(symbol, tick)
        self.latest_mids[symbol] = bid_plus_ask_ticks
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        """Value every symbol with a position at its latest mid (lazily: only before a decision or a query).

        Once a symbol has a mid, fills no longer change its mark (before: the last fill price). A flat symbol's
        worst case does not depend on its mark. A new mark changes no quoting decision by itself, so
        :attr:`version` stays (a moved touch is requoted anyway).
        """
        exposures = self._x
        half_ticks = self._half_ticks
        for symbol, key in self.latest_mids.items():
            x = exposures.get(symbol)
            if x is None or x.mark_key == key:
                continue
            x.mark_key = key
            x.mark = mark = key * half_ticks[symbol]
            if x.pos:
                pos_usd = x.pos * mark
                worst = max(abs(pos_usd + x.open_buy), abs(pos_usd - x.open_sell))
                self._total_worst += worst - x.worst
                x.worst = worst

    # ---------------------------------------------------------------- pre-trade
    def evaluate(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> str | None:
        """The limit an order would break (``None`` if it fits). Pure: changes no state, counts nothing.

        An order that brings its side's worst case closer to zero (a sell against a long, a buy against a
        short) reduces exposure and is never blocked by a limit, only by a freeze.

        The answer depends only on (:attr:`version`, symbol, side, qty, price), so callers may cache it.
        """
        if self._frozen:
            return "frozen"
        if self.latest_mids:
            self._refresh_marks()
        x = self._x.get(symbol) or _NO_EXPOSURE
        pos_usd = x.pos * price
        if side is Side.BUY:
            before = pos_usd + x.open_buy
            worst = abs(before + qty * price)
            other_side = abs(pos_usd - x.open_sell)
        else:
            before = pos_usd - x.open_sell
            worst = abs(before - qty * price)
            other_side = abs(pos_usd + x.open_buy)
        if worst <= abs(before):
            return None  # it reduces its side's worst case (e.g. unwinds a position past the limit): never blocked
        if worst > self.max_inventory_usd_per_symbol:
            return "max_inventory_usd_per_symbol"
        if self._total_worst - x.worst + max(worst, other_side) > self.max_total_notional_usd:
            return "max_total_notional_usd"
        return None

    def count_block(self, reason: str) -> None:
        """Record that an order was blocked for ``reason``."""
        self.blocks_total += 1
        self.last_block_reason = reason

    def reserve(self, symbol: str, side: Side, notional: Decimal) -> None:
        """Add (or, negative, release) open notional on one side of a symbol."""
        x = self._exposure(symbol)
        if side is Side.BUY:
            x.open_buy += notional
        else:
            x.open_sell += notional
        self._update(x)

    # ---------------------------------------------------------------- post-trade
    def on_execution(self, symbol: str, side: Side, qty: Decimal, price: Decimal, order_price: Decimal) -> None:
        """A fill of an open order: release its reserved notional (at ``order_price``) and apply the fill."""
        x = self._exposure(symbol)
        if side is Side.BUY:
            x.open_buy -= qty * order_price
            x.pos += qty
        else:
            x.open_sell -= qty * order_price
            x.pos -= qty
        if x.mark_key < 0:  # no mid seen yet: value at the fill price
            x.mark = price
        self._update(x)

    def apply_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        """Apply an execution that reserved nothing (or whose reservation is gone) and mark at ``price``."""
        x = self._exposure(symbol)
        x.pos += qty if side is Side.BUY else -qty
        if x.mark_key < 0:  # no mid seen yet: value at the fill price
            x.mark = price
        self._update(x)

    def on_mark(self, symbol: str, price: Number) -> None:
        """Revalue a symbol at a new reference price (e.g. the last mid)."""
        x = self._exposure(symbol)
        x.mark = to_decimal(price)
        x.mark_key = -1
        self._update(x)

    # ---------------------------------------------------------------- freeze
    def on_edge_update(self, symbol: str, net_bps: Number, *, timestamp_ms: int | None = None) -> bool:
        """Record the latest edge; returns True when this update froze trading."""
        # Compared as given (float/Decimal comparisons are exact); converted only when it freezes.
        value = to_decimal(net_bps) if isinstance(net_bps, str) else net_bps
        if value != value:  # noqa: PLR0124 -- NaN: a broken signal must not crash the kill switch; fail safe
            self.latest_edges[symbol] = value
            if self._frozen:
                return False
            self.freeze(FREEZE_REASON_INVALID_EDGE, symbol, edge=None, timestamp_ms=timestamp_ms)
            return True
        self.latest_edges[symbol] = value
        if self._frozen or value >= self.edge_freeze_threshold_bps:
            return False
        self.freeze(FREEZE_REASON_EDGE, symbol, edge=exact_edge(value, self.edge_freeze_threshold_bps),
                    timestamp_ms=timestamp_ms)
        return True

    def freeze(self, reason: str, symbol: str, *, edge: Decimal | None = None, timestamp_ms: int | None = None) -> None:
        self._frozen = True
        self.version += 1
        self.freezes_total += 1
        self.last_freeze_reason = reason
        self.last_freeze_symbol = symbol
        self.freeze_log.append(FreezeEvent(symbol, reason, edge, self.edge_freeze_threshold_bps, timestamp_ms))

    def unfreeze(self) -> bool:
        """Lift a freeze (operator action or the loop's cool-down). Returns True if it was frozen."""
        if not self._frozen:
            return False
        self._frozen = False
        self.version += 1
        self.unfreezes_total += 1
        return True

    @property
    def frozen(self) -> bool:
        """True while trading is frozen (read-only; see :meth:`freeze` / :meth:`unfreeze`)."""
        return self._frozen

    def edges_recovered(self) -> bool:
        """True when the latest edge of every symbol seen is at or above the threshold."""
        return all(edge_at_or_above(e, self.edge_freeze_threshold_bps) for e in self.latest_edges.values())

    # ---------------------------------------------------------------- queries
    def get_positions(self) -> dict[str, Decimal]:
        return {s: x.pos for s, x in self._x.items()}

    def position(self, symbol: str) -> Decimal:
        """Signed base position of ``symbol`` (zero when never traded)."""
        x = self._x.get(symbol)
        return x.pos if x is not None else _ZERO

    def open_exposure(self, symbol: str) -> tuple[Decimal, Decimal]:
        x = self._exposure(symbol)
        return x.open_buy, x.open_sell

    def worst_case_total(self) -> Decimal:
        self._refresh_marks()
        return self._total_worst
