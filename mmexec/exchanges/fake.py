"""FakeExchangeClient: a deterministic simulated venue on virtual time.

Every order's fate is drawn from (seed, client order id) alone (see :mod:`mmexec.exchanges.outcomes`):

- rejected with probability ``reject_rate``;
- otherwise it rests (OPEN). With probability ``fill_rate`` it fills at its limit price ``latency_ms`` after
  placement; with probability ``partial_fill_rate`` that fill comes in two parts: 1/4, 1/2 or 3/4 of the quantity
  after ``latency_ms`` and the rest ``latency_ms`` later. Orders that don't fill rest until canceled.

Fills are released by :meth:`stream_fills` once the shared :class:`~mmexec.engine.clock.VirtualClock` reaches
their time. Resting limit orders fill as maker. Exchange order ids are ``ORD000001``, ``ORD000002``, ...
Filled and canceled orders are forgotten at once, so memory stays flat however long the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from mmexec.accounting.pnl import PnlTracker
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import (
    FillEvent,
    OpenOrder,
    OrderState,
    PlaceOrderRequest,
    PlaceOrderResponse,
    Position,
    Side,
)
from mmexec.engine.ports import ExecutionTotals
from mmexec.exchanges.outcomes import order_uniforms
from mmexec.exchanges.scheduling import FillScheduler, plan_fills

_ZERO = Decimal(0)
REJECT_MESSAGE = "rejected by fake exchange (simulated reject_rate)"
_OPEN = OrderState.OPEN


def _rate(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value}")
    return value


class _RestingOrder:
    __slots__ = ("client_order_id", "filled", "order_id", "price", "qty", "side", "symbol")

    def __init__(self, order_id: str, req: PlaceOrderRequest) -> None:
        self.order_id = order_id
        self.client_order_id = req.client_order_id
        self.symbol = req.symbol
        self.side = req.side
        self.qty = req.qty
        self.price = req.price
        self.filled = _ZERO


class FakeExchangeClient:
    """Deterministic venue: same seed and same client order ids give the same fills, byte for byte."""

    def __init__(
        self,
        fill_rate: float = 0.7,
        reject_rate: float = 0.05,
        latency_ms: int = 100,
        partial_fill_rate: float = 0.0,
        seed: int = 42,
        *,
        clock: VirtualClock | None = None,
    ) -> None:
        self.fill_rate = _rate("fill_rate", fill_rate)
        self.reject_rate = _rate("reject_rate", reject_rate)
        self.partial_fill_rate = _rate("partial_fill_rate", partial_fill_rate)
        if int(latency_ms) < 0:
            raise ValueError(f"latency_ms must be >= 0, got {latency_ms}")
        self.latency_ms = int(latency_ms)
        self.seed = int(seed)
        self.clock = clock if clock is not None else VirtualClock()
        self._orders: dict[str, _RestingOrder] = {}
        self._active_coids: set[str] = set()
        self._fills = FillScheduler()
        self._released: deque[FillEvent] = deque()  # executed (e.g. before a cancel), not yet streamed
        self._order_seq = 0
        self._fill_seq = 0
        self._executions: dict[str, ExecutionTotals] = {}
        self._book = PnlTracker()
        self.placed_total = 0
        self.rejected_total = 0
        self.canceled_total = 0
        self.fills_total = 0

    # ---------------------------------------------------------------- orders
    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        coid = req.client_order_id
        if not (req.qty.is_finite() and req.price.is_finite()) or req.qty <= 0 or req.price <= 0:
            return self._reject(coid, "qty and price must be positive finite numbers")
        if coid in self._active_coids:
            return self._reject(coid, f"duplicate client order id {coid}")
        u_reject, u_fill, u_partial, u_fraction = order_uniforms(self.seed, coid)
        if u_reject < self.reject_rate:
            return self._reject(coid, REJECT_MESSAGE)
        self._order_seq += 1
        order_id = f"ORD{self._order_seq:06d}"
        self._orders[order_id] = _RestingOrder(order_id, req)
        self._active_coids.add(coid)
        self.placed_total += 1
        if u_fill < self.fill_rate:
            for due, qty in plan_fills(req.qty, self.clock.now_ms(), self.latency_ms, u_fill=u_fill,
                                       u_partial=u_partial, u_fraction=u_fraction, fill_rate=self.fill_rate,
                                       partial_fill_rate=self.partial_fill_rate):
                self._fills.schedule(due, order_id, qty)
        return tuple.__new__(PlaceOrderResponse, (True, coid, order_id, _OPEN, "", None))

    def _reject(self, coid: str, message: str) -> PlaceOrderResponse:
        self.rejected_total += 1
        return PlaceOrderResponse(False, coid, None, OrderState.REJECTED, message)

    def cancel(self, order_id: str) -> bool:
        """Cancel a resting order; False if it is unknown, filled or already canceled.

        Like a real venue, fills whose time has come execute first (they are streamed later, so a fill can
        reach the caller after its cancel); only the remainder is canceled.
        """
        self._settle()
        order = self._orders.pop(order_id, None)
        if order is None:
            return False
        self._fills.discard(order_id)
        self._active_coids.discard(order.client_order_id)
        self.canceled_total += 1
        return True

    # ---------------------------------------------------------------- fills
    def _settle(self) -> None:
        """Execute every fill due by now (in time order) into the stream's backlog."""
        now = self.clock.now_ms()
        due = self._fills.next_due_ms()
        if due is None or due > now:
            return
        for due_ms, order_id, qty in self._fills.pop_due(now):
            order = self._orders.get(order_id)
            if order is not None:
                self._released.append(self._execute(order, qty, due_ms))

    def stream_fills(self) -> Iterator[FillEvent]:
        """Yield every fill due at or before the clock's current time, in time order."""
        released = self._released
        while released:
            yield released.popleft()
        for due, order_id, qty in self._fills.pop_due(self.clock.now_ms()):
            order = self._orders.get(order_id)
            if order is None:  # canceled before its fill came due
                continue
            yield self._execute(order, qty, due)

    def _execute(self, order: _RestingOrder, qty: Decimal, due_ms: int) -> FillEvent:
        order.filled += qty
        if order.filled == order.qty:
            del self._orders[order.order_id]
            self._active_coids.discard(order.client_order_id)
        totals = self._executions.get(order.symbol)
        if totals is None:
            totals = self._executions[order.symbol] = ExecutionTotals()
        totals.add(order.side is Side.BUY, qty, order.price, True)
        self._fill_seq += 1
        self.fills_total += 1
        # tuple.__new__: every field is given and already typed, so skip the named tuple's Python-level __new__
        fill = tuple.__new__(FillEvent, (order.client_order_id, order.order_id, order.symbol, order.side, qty,
                                         order.price, due_ms, True, f"EXE{self._fill_seq:08d}"))
        self._book.on_fill(fill)
        return fill

    # ---------------------------------------------------------------- queries
    def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        return [
            OpenOrder(o.order_id, o.client_order_id, o.symbol, o.side, o.qty, o.price, o.filled,
                      OrderState.PARTIALLY_FILLED if o.filled else OrderState.OPEN)
            for o in self._orders.values()
            if symbol is None or o.symbol == symbol
        ]

    def get_positions(self) -> list[Position]:
        """Signed position and average-cost entry price per symbol traded."""
        return [self._book.position(symbol) for symbol in sorted(self._executions)]

    def execution_totals(self) -> dict[str, ExecutionTotals]:
        """Per-symbol sums of every execution (for reconciliation)."""
        return dict(self._executions)

    def next_fill_ms(self) -> int | None:
        """Virtual time of the earliest fill not yet streamed (``None`` if there is none)."""
        if self._released:
            return self._released[0].timestamp_ms
        return self._fills.next_due_ms()

    def pending_fill_count(self) -> int:
        return self._fills.pending() + len(self._released)
