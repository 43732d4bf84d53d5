"""FakeExchangeClient: a deterministic simulated venue on virtual time.

Every order's fate is drawn from (seed, client order id) alone (see :mod:`mmexec.exchanges.outcomes`):

- rejected with probability ``reject_rate``;
- otherwise it rests (OPEN). With probability ``fill_rate`` it fills at its limit price ``latency_ms`` after
  placement; with probability ``partial_fill_rate`` that fill comes in two parts: 1/4, 1/2 or 3/4 of the quantity
  rounded down to whole lots after ``latency_ms`` and the rest ``latency_ms`` later (an order of one lot fills
  at once). Orders that don't fill rest until canceled.

Orders live on an integer grid: lots of ``lot_size`` at ticks of ``tick_size``. A symbol's grid comes from
:meth:`set_grid` (the execution loop registers its instruments); an order on an unregistered symbol uses the
grid its own decimals are written on (its lot two places finer, so its quarters stay exact). Besides the
:class:`~mmexec.engine.ports.Venue` port (Decimal requests and fills) it implements the integer extension
:class:`~mmexec.engine.ports.TickVenue` (:meth:`set_grid`, :meth:`place_ticks`, :meth:`stream_fill_ticks`), so
the loop's hot path never builds a ``Decimal``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from heapq import heappop, heappush
from typing import Any

from mypy_extensions import mypyc_attr

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
from mmexec.engine.ports import ExecutionTotals, TickFill
from mmexec.exchanges.orders import VenueOrder
from mmexec.exchanges.outcomes import WORD, keyed_hasher, order_words
from mmexec.exchanges.scheduling import first_part_quarters, plan_fill_lots
from mmexec.money import precision_of

_ONE = Decimal(1)
REJECT_MESSAGE = "rejected by fake exchange (simulated reject_rate)"
_OPEN = OrderState.OPEN
_BUY, _SELL = Side.BUY, Side.SELL
_ORDER_ID, _FILL_ID = "ORD%06d", "EXE%08d"  # printf-style: faster than f-strings on the hot path


def _rate(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value}")
    return value


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class _Grid:
    """A symbol's tick and lot sizes, with the venue's sums for that symbol."""

    __slots__ = ("lot", "tick", "totals")

    def __init__(self, tick: Decimal, lot: Decimal) -> None:
        self.tick = tick
        self.lot = lot
        self.totals = ExecutionTotals(tick, lot)


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class _RestingOrder(VenueOrder):
    """A venue order with the grid it rests on (its symbol's, or its own for an unregistered symbol)."""

    __slots__ = ("grid",)

    def __init__(self, order_id: str, coid: str, symbol: str, is_buy: bool, lots: int, ticks: int,
                 grid: _Grid) -> None:
        VenueOrder.__init__(self, order_id, coid, symbol, is_buy, lots, ticks)
        self.grid = grid


_Executed = tuple[_RestingOrder, int, int, str]  # order, lots, due ms, fill id


def _fill_event(order: _RestingOrder, lots: int, due_ms: int, fill_id: str) -> FillEvent:
    grid = order.grid
    # tuple.__new__: every field is given and already typed (skips the named tuple's Python-level __new__)
    return tuple.__new__(FillEvent, (order.client_order_id, order.order_id, order.symbol,
                                     _BUY if order.is_buy else _SELL, lots * grid.lot, order.ticks * grid.tick,
                                     due_ms, True, fill_id))


@mypyc_attr(allow_interpreted_subclasses=True)  # tests and users subclass it
class FakeExchangeClient:
    """Deterministic venue: same seed and same client order ids give the same fills, byte for byte.

    Its rates, latency and seed are fixed at construction (the fate's cut-offs and the seed-keyed hasher are
    derived from them once).
    """

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
        # scheduled fills (due ms, order seq, part, order id, lots): in time order, ties in placement order
        self._heap: list[tuple[int, int, int, str, int]] = []
        self._hasher = keyed_hasher(self.seed)
        # the fate's cut-offs as words: u = word / WORD < rate exactly when word < rate * WORD (exact in floats)
        self._reject_cut = self.reject_rate * WORD
        self._fill_cut = self.fill_rate * WORD
        self._partial_cut = self.partial_fill_rate * WORD
        self._released: deque[_Executed] = deque()  # executed (e.g. before a cancel), not yet streamed
        self._order_seq = 0
        self._fill_seq = 0
        self._grids: dict[str, _Grid] = {}
        self._executions: dict[str, ExecutionTotals] = {}
        self._book = PnlTracker()
        self.placed_total = 0
        self.rejected_total = 0
        self.canceled_total = 0
        self.fills_total = 0
        self.last_reject_message = ""

    @classmethod  # implicit in Python, explicit for mypyc
    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass that intercepts the Decimal port (``place_limit``, ``stream_fills``) without overriding
        its integer counterparts is driven through the Decimal port only, so its overrides see every order and
        fill: it drops the :class:`~mmexec.engine.ports.TickVenue` extension."""
        super().__init_subclass__(**kwargs)
        pairs = (("place_limit", "place_ticks"), ("stream_fills", "stream_fill_ticks"))
        if any(port in vars(cls) and tick not in vars(cls) for port, tick in pairs):
            for _, tick in pairs:
                setattr(cls, tick, None)

    # ---------------------------------------------------------------- grids
    def set_grid(self, symbol: str, tick_size: Decimal, lot_size: Decimal) -> None:
        """Trade ``symbol`` in lots of ``lot_size`` at ticks of ``tick_size`` (before its first order)."""
        grid = self._grids.get(symbol)
        if grid is not None and (grid.tick, grid.lot) == (tick_size, lot_size):
            return
        if symbol in self._executions:
            raise ValueError(f"{symbol} has traded on another grid")
        self._grids[symbol] = _Grid(tick_size, lot_size)
        self._book.set_grid(symbol, tick_size, lot_size)

    def _grid_for(self, req: PlaceOrderRequest) -> _Grid:
        """The symbol's grid; for an unregistered symbol, the price's own decimals and a lot two places finer than
        the quantity's (so that quarters of it are whole lots: its partial fills stay exact)."""
        grid = self._grids.get(req.symbol)
        if grid is not None:
            return grid
        return _Grid(_ONE.scaleb(-precision_of(req.price)), _ONE.scaleb(-precision_of(req.qty) - 2))

    # ---------------------------------------------------------------- orders
    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        coid = req.client_order_id
        if not (req.qty.is_finite() and req.price.is_finite()) or req.qty <= 0 or req.price <= 0:
            return self._reject(coid, "qty and price must be positive finite numbers")
        grid = self._grid_for(req)
        lots, ticks = req.qty / grid.lot, req.price / grid.tick
        if lots != lots.to_integral_value() or ticks != ticks.to_integral_value():
            return self._reject(coid, f"qty and price must be on the grid of {req.symbol} (lot {grid.lot}, "
                                      f"tick {grid.tick})")
        # through the class: a subclass hook may have withdrawn place_ticks (see __init_subclass__)
        order_id = FakeExchangeClient.place_ticks(self, coid, req.symbol, req.side is _BUY, int(lots), int(ticks),
                                                  grid)
        if order_id is None:
            return PlaceOrderResponse(False, coid, None, OrderState.REJECTED, self.last_reject_message)
        return tuple.__new__(PlaceOrderResponse, (True, coid, order_id, _OPEN, "", None))

    def place_ticks(self, client_order_id: str, symbol: str, is_buy: bool, lots: int, ticks: int,
                    grid: _Grid | None = None) -> str | None:
        """Place ``lots`` at ``ticks`` on a registered symbol's grid; the order id, or ``None`` when rejected
        (the reason is in :attr:`last_reject_message`). The TickVenue extension."""
        coid = client_order_id
        message = None
        if lots <= 0 or ticks <= 0:
            message = "qty and price must be positive finite numbers"
        elif coid in self._active_coids:
            message = f"duplicate client order id {coid}"
        else:
            w_reject, w_fill, w_partial, w_fraction = order_words(self._hasher, coid)
            if w_reject < self._reject_cut:
                message = REJECT_MESSAGE
        if message is not None:
            self.last_reject_message = message
            self.rejected_total += 1
            return None
        if grid is None:
            grid = self._grids[symbol]
        self._order_seq = seq = self._order_seq + 1
        order_id = _ORDER_ID % seq
        self._orders[order_id] = _RestingOrder(order_id, coid, symbol, is_buy, lots, ticks, grid)
        self._active_coids.add(coid)
        self.placed_total += 1
        if w_fill < self._fill_cut:
            now = self.clock.now_ms()
            if w_partial < self._partial_cut:
                quarters = first_part_quarters(u_fill=w_fill / WORD, u_partial=w_partial / WORD,
                                               u_fraction=w_fraction / WORD, fill_rate=self.fill_rate,
                                               partial_fill_rate=self.partial_fill_rate)
                for part, (due, part_lots) in enumerate(plan_fill_lots(lots, now, self.latency_ms, quarters)):
                    heappush(self._heap, (due, seq, part, order_id, part_lots))
            else:  # plan_fill_lots' one fill, without building the plan
                heappush(self._heap, (now + self.latency_ms, seq, 0, order_id, lots))
        return order_id

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
        self._active_coids.discard(order.client_order_id)  # its scheduled fills are dropped when they come due
        self.canceled_total += 1
        return True

    # ---------------------------------------------------------------- fills
    def _pop_due(self, now: int) -> Iterator[_Executed]:
        """Execute the scheduled fills due by ``now`` (in time order; those of canceled orders are dropped)."""
        heap = self._heap
        orders = self._orders
        while heap and heap[0][0] <= now:
            due, _, _, order_id, lots = heappop(heap)
            order = orders.get(order_id)
            if order is not None:
                yield self._execute(order, lots, due)

    def _settle(self) -> None:
        """Execute every fill due by now (in time order) into the stream's backlog."""
        now = self.clock.now_ms()
        heap = self._heap
        if heap and heap[0][0] <= now:
            self._released.extend(self._pop_due(now))

    def _due(self) -> Iterator[_Executed]:
        released = self._released
        while released:
            yield released.popleft()
        yield from self._pop_due(self.clock.now_ms())

    def stream_fill_ticks(self) -> Iterator[TickFill]:
        """Every fill due at or before the clock's current time, in time order, as ``(client_order_id, lots,
        ticks, timestamp_ms, is_maker, fill_id)`` on the symbol's grid (resting orders fill as maker)."""
        released = self._released
        while released:
            order, lots, due, fill_id = released.popleft()
            yield order.client_order_id, lots, order.ticks, due, True, fill_id
        heap, orders, execute = self._heap, self._orders, self._execute
        now = self.clock.now_ms()
        while heap and heap[0][0] <= now:  # _pop_due, flattened: this is the engine's hot path
            due, _, _, order_id, lots = heappop(heap)
            resting = orders.get(order_id)
            if resting is not None:
                fill_id = execute(resting, lots, due)[3]
                yield resting.client_order_id, lots, resting.ticks, due, True, fill_id

    def stream_fills(self) -> Iterator[FillEvent]:
        """Yield every fill due at or before the clock's current time, in time order."""
        for order, lots, due, fill_id in self._due():
            yield _fill_event(order, lots, due, fill_id)

    def _execute(self, order: _RestingOrder, lots: int, due_ms: int) -> _Executed:
        order.filled += lots
        if order.filled == order.lots:
            del self._orders[order.order_id]
            self._active_coids.discard(order.client_order_id)
        self._fill_seq += 1
        self.fills_total += 1
        fill_id = _FILL_ID % self._fill_seq
        symbol = order.symbol
        grid = order.grid
        if grid is self._grids.get(symbol):
            if symbol not in self._executions:
                self._executions[symbol] = grid.totals
            grid.totals.add_ticks(order.is_buy, lots, order.ticks, True)
            self._book.on_ticks(symbol, order.is_buy, lots, order.ticks)
        else:  # an order on its own grid (an unregistered symbol): decimals
            fill = _fill_event(order, lots, due_ms, fill_id)
            totals = self._executions.get(symbol)
            if totals is None:
                totals = self._executions[symbol] = ExecutionTotals()
            totals.add(order.is_buy, fill.qty, fill.price, True)
            self._book.on_fill(fill)
        return order, lots, due_ms, fill_id

    # ---------------------------------------------------------------- queries
    def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        return [o.open_order(o.grid.tick, o.grid.lot) for o in self._orders.values()
                if symbol is None or o.symbol == symbol]

    def get_positions(self) -> list[Position]:
        """Signed position and average-cost entry price per symbol traded."""
        return [self._book.position(symbol) for symbol in sorted(self._executions)]

    def execution_totals(self) -> dict[str, ExecutionTotals]:
        """Per-symbol sums of every execution (for reconciliation)."""
        return dict(self._executions)

    def next_fill_ms(self) -> int | None:
        """Virtual time of the earliest fill not yet streamed (``None`` if there is none)."""
        if self._released:
            return self._released[0][2]
        heap, orders = self._heap, self._orders
        while heap and heap[0][3] not in orders:  # a canceled order's fill
            heappop(heap)
        return heap[0][0] if heap else None

    def pending_fill_count(self) -> int:
        return sum(1 for entry in self._heap if entry[3] in self._orders) + len(self._released)
