"""RuntimeRiskMonitor: worst-case pre-trade limits, positions, and the edge freeze (kill switch).

Worst case, per symbol: a new order is allowed only if the current position plus every open order on the
same side plus this order, all filling at their prices, stays within ``max_inventory_usd_per_symbol``:

    BUY :  |pos * price + open_buy_notional + qty * price|  <= max_inv
    SELL:  |pos * price - open_sell_notional - qty * price| <= max_inv

and the sum over all symbols of each symbol's worst case (this symbol with the new order; every other symbol
at the larger of its all-buys-fill and all-sells-fill exposure, valued at the last price seen for it) stays
within ``max_total_notional_usd``. Open exposure is reserved with :meth:`on_order_open` and released with
:meth:`on_order_release` (fills, cancels).

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
_EDGE_QUANTUM = Decimal("0.0001")  # freeze events record the edge to 1/10,000 bps


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
    __slots__ = ("mark", "open_buy", "open_sell", "pos", "worst")

    def __init__(self) -> None:
        self.pos = _ZERO
        self.mark = _ZERO
        self.open_buy = _ZERO
        self.open_sell = _ZERO
        self.worst = _ZERO  # max(|pos*mark + open_buy|, |pos*mark - open_sell|), kept by RuntimeRiskMonitor._update


_NO_EXPOSURE = _Exposure()


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

    # ---------------------------------------------------------------- pre-trade
    def check_before_order(self, symbol: str, side: Side | str, qty: Number, price: Number) -> bool:
        """True if the order fits both limits in the worst case; a False answer counts as a block."""
        reason = self.evaluate(symbol, Side(side), to_decimal(qty), to_decimal(price))
        if reason is None:
            return True
        self.count_block(reason)
        return False

    def evaluate(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> str | None:
        """The limit an order would break (``None`` if it fits). Pure: changes no state, counts nothing.

        The answer depends only on (:attr:`version`, symbol, side, qty, price), so callers may cache it.
        """
        if self._frozen:
            return "frozen"
        x = self._x.get(symbol) or _NO_EXPOSURE
        pos_usd = x.pos * price
        if side is Side.BUY:
            worst = abs(pos_usd + x.open_buy + qty * price)
            other_side = abs(pos_usd - x.open_sell)
        else:
            worst = abs(pos_usd - x.open_sell - qty * price)
            other_side = abs(pos_usd + x.open_buy)
        if worst > self.max_inventory_usd_per_symbol:
            return "max_inventory_usd_per_symbol"
        if self._total_worst - x.worst + max(worst, other_side) > self.max_total_notional_usd:
            return "max_total_notional_usd"
        return None

    def count_block(self, reason: str) -> None:
        """Record that an order was blocked for ``reason``."""
        self.blocks_total += 1
        self.last_block_reason = reason

    def on_order_open(self, symbol: str, side: Side | str, qty: Number, price: Number) -> None:
        """Reserve an accepted order's notional as open exposure."""
        self.reserve(symbol, Side(side), to_decimal(qty) * to_decimal(price))

    def on_order_release(self, symbol: str, side: Side | str, qty: Number, price: Number) -> None:
        """Release open exposure (the order filled or was canceled for ``qty`` at its limit ``price``)."""
        self.reserve(symbol, Side(side), -(to_decimal(qty) * to_decimal(price)))

    def reserve(self, symbol: str, side: Side, notional: Decimal) -> None:
        """Add (or, negative, release) open notional on one side of a symbol."""
        x = self._exposure(symbol)
        if side is Side.BUY:
            x.open_buy += notional
        else:
            x.open_sell += notional
        self._update(x)

    # ---------------------------------------------------------------- post-trade
    def on_fill(self, symbol: str, side: Side | str, qty: Number, price: Number) -> None:
        """Apply an execution to the position (exact sum of fills) and mark the symbol at ``price``."""
        self.apply_fill(symbol, Side(side), to_decimal(qty), to_decimal(price))

    def on_execution(self, symbol: str, side: Side, qty: Decimal, price: Decimal, order_price: Decimal) -> None:
        """A fill of an open order: release its reserved notional (at ``order_price``) and apply the fill."""
        x = self._exposure(symbol)
        if side is Side.BUY:
            x.open_buy -= qty * order_price
            x.pos += qty
        else:
            x.open_sell -= qty * order_price
            x.pos -= qty
        x.mark = price
        self._update(x)

    def apply_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        """:meth:`on_fill` for callers that already hold a ``Side`` and ``Decimal`` values."""
        x = self._exposure(symbol)
        x.pos += qty if side is Side.BUY else -qty
        x.mark = price
        self._update(x)

    def on_mark(self, symbol: str, price: Number) -> None:
        """Revalue a symbol at a new reference price (e.g. the last mid)."""
        x = self._exposure(symbol)
        x.mark = to_decimal(price)
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
        edge = to_decimal(value)
        self.freeze(FREEZE_REASON_EDGE, symbol, edge=edge.quantize(_EDGE_QUANTUM) if edge.is_finite() else None,
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

    def is_frozen(self) -> bool:
        return self._frozen

    def edges_recovered(self) -> bool:
        """True when the latest edge of every symbol seen is at or above the threshold."""
        return all(edge_at_or_above(e, self.edge_freeze_threshold_bps) for e in self.latest_edges.values())

    # ---------------------------------------------------------------- queries
    def get_positions(self) -> dict[str, Decimal]:
        return {s: x.pos for s, x in self._x.items()}

    def open_exposure(self, symbol: str) -> tuple[Decimal, Decimal]:
        x = self._exposure(symbol)
        return x.open_buy, x.open_sell

    def worst_case_total(self) -> Decimal:
        return self._total_worst
