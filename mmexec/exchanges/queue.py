"""QueueVenue: the replay venue. Fills are decided by the recorded market, with queue position.

- An order reaches the venue ``latency_ms`` after it is sent (local clock) and is matched at exchange time:
  it becomes active at the first market event of its symbol with exchange time >= its arrival time, against
  the book as it stood just before that event. While the symbol's book is not tradable (invalid after a gap,
  crossed, or no top of book yet) arriving orders wait.
- Post-only: an order that would cross the touch on arrival is rejected (``EC_PostOnlyWillTakeLiquidity``).
- Queue: the order joins behind the displayed quantity at its price. A price level not known yet (a book built
  without a snapshot) counts as empty: the order is first in line (counted as ``joined_unknown_level``).
- Trades at the order's price (aggressor on the other side) consume the queue ahead first; the excess fills the
  order, partially if so (whole lots). A trade through the price, or the opposite touch at or through it, fills
  the rest.
- Depth decreases at the order's price not explained by trades since the last update of that level:
  ``risk-averse``: cancels come from behind, the queue ahead does not move; ``proportional``: the queue ahead
  shrinks by its share of the level (ahead * decrease / level). In both, the queue ahead never exceeds the
  displayed quantity.
- Fills are at the limit price, as maker, and reach the strategy ``response_latency_ms`` after they happen, as
  do post-only rejects. Cancels take effect at once; a cancel that races a fill still in flight to the strategy
  fails (the strategy learns of the fill first), as on a real venue.
- Nothing fills while the book is not tradable.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from mypy_extensions import mypyc_attr

from mmexec.accounting.pnl import PnlTracker
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import FillEvent, OpenOrder, OrderState, PlaceOrderRequest, PlaceOrderResponse, Position, Side
from mmexec.exchanges.base import ExecutionTotals
from mmexec.exchanges.orders import VenueOrder
from mmexec.marketdata.book import OrderBook
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, MarketEvent, TradePrint

log = logging.getLogger("mmexec.replay")

POST_ONLY_REJECT = "EC_PostOnlyWillTakeLiquidity"
QUEUE_MODELS = ("risk-averse", "proportional")
_BUY, _SELL = Side.BUY, Side.SELL
_OPEN = OrderState.OPEN
BY_TRADE, BY_TRADE_THROUGH, BY_CROSS = "trade", "trade_through", "cross"


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class _Order(VenueOrder):
    """A venue order with its place in the queue and the request's price (fills are reported at it)."""

    __slots__ = ("ahead", "arrive_ms", "first_fill_ms", "in_flight", "price", "traded")

    def __init__(self, order_id: str, req: PlaceOrderRequest, px: int, lots: int, arrive_ms: int) -> None:
        VenueOrder.__init__(self, order_id, req.client_order_id, req.symbol, req.side is _BUY, lots, px)
        self.price = req.price
        self.ahead = 0
        self.traded = 0  # lots traded at the order's price since the level last changed in the book
        self.arrive_ms = arrive_ms
        self.first_fill_ms = -1
        self.in_flight = 0


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class QueueVenue:
    """Replay venue on the exchange clock; see the module docstring for the matching rules."""

    def __init__(self, books: Mapping[str, OrderBook], grids: Mapping[str, tuple[Decimal, Decimal]], *,
                 clock: VirtualClock, latency_ms: int = 100, response_latency_ms: int = 100,
                 queue_model: str = "risk-averse", record_fills: bool = False) -> None:
        if queue_model not in QUEUE_MODELS:
            raise ValueError(f"queue_model must be one of {QUEUE_MODELS}, got {queue_model!r}")
        self.books = books
        self.grids = dict(grids)
        self.clock = clock
        self.latency_ms = latency_ms
        self.response_latency_ms = response_latency_ms
        self.proportional = queue_model == "proportional"
        self.queue_model = queue_model
        self._pending: dict[str, list[_Order]] = {s: [] for s in books}
        self._resting: dict[str, list[_Order]] = {s: [] for s in books}
        self._orders: dict[str, _Order] = {}
        self._outbox: list[tuple[int, int, FillEvent]] = []  # (due_ms, seq, fill) on their way to the strategy
        self._rejects: list[tuple[int, int, str]] = []  # (due_ms, seq, client order id) of post-only rejects
        self._seq = self._order_seq = self._fill_seq = 0
        self._executions: dict[str, ExecutionTotals] = {}
        self._pnl = PnlTracker()
        self.execution_listeners: list[Callable[[FillEvent], object]] = []
        self.fill_log: list[tuple[str, bool, int, int, int, str, int]] | None = [] if record_fills else None
        # counters for the report's queue section
        self.joined = self.joined_unknown = self.post_only_rejects = self.cancel_races = 0
        self.ahead_sum = 0
        self.first_fills = 0
        self.first_fill_wait_ms = 0
        self.fills_by = {BY_TRADE: 0, BY_TRADE_THROUGH: 0, BY_CROSS: 0}

    # ------------------------------------------------------------------ orders (local side)
    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        tick, lot = self.grids[req.symbol]
        px, px_rest = divmod(req.price, tick)
        lots, lot_rest = divmod(req.qty, lot)
        if px_rest or lot_rest or px <= 0 or lots <= 0:
            return PlaceOrderResponse(False, req.client_order_id, None, OrderState.REJECTED,
                                      "price or quantity off the instrument grid")
        self._order_seq += 1
        order_id = f"RPL{self._order_seq:06d}"
        order = _Order(order_id, req, int(px), int(lots), self.clock.now_ms() + self.latency_ms)
        self._orders[order_id] = order
        self._pending[req.symbol].append(order)
        return tuple.__new__(PlaceOrderResponse, (True, req.client_order_id, order_id, _OPEN, "", None))

    def cancel(self, order_id: str) -> bool:
        order = self._orders.get(order_id)
        if order is None:
            return False
        if order.in_flight:
            self.cancel_races += 1
            return False
        self._forget(order)
        return True

    def _forget(self, order: _Order) -> None:
        del self._orders[order.order_id]
        for table in (self._pending, self._resting):
            queue = table[order.symbol]
            if order in queue:
                queue.remove(order)

    # ------------------------------------------------------------------ market (exchange side)
    def on_market(self, ev: MarketEvent) -> None:
        """Apply one market event to its symbol's book and match resting orders against it."""
        symbol = ev.symbol
        book = self.books[symbol]
        if self._pending[symbol] and book.tradable:
            self._activate(book, ev.exch_ms)
        resting = self._resting[symbol]
        if type(ev) is BestBidAsk:
            book.apply_bbo(ev)
        elif type(ev) is BookDelta:
            if resting:
                before = [book.qty_at(o.is_buy, o.ticks) for o in resting]
                book.apply_delta(ev)
                self._depth_changes(book, resting, before)
            else:
                book.apply_delta(ev)
        elif type(ev) is TradePrint:
            if resting and book.tradable:
                self._on_trade(ev, resting)
            return
        elif type(ev) is BookSnapshot:
            book.apply_snapshot(ev)
            for order in resting:
                shown = book.qty_at(order.is_buy, order.ticks)
                if shown is not None and order.ahead > shown:
                    order.ahead = shown
        if resting and book.tradable:
            self._on_touch(book, resting, ev.exch_ms)

    def _activate(self, book: OrderBook, now_ms: int) -> None:
        pending = self._pending[book.symbol]
        keep: list[_Order] = []
        for order in pending:
            if order.arrive_ms > now_ms:
                keep.append(order)
                continue
            at = order.arrive_ms
            if (book.ask <= order.ticks) if order.is_buy else (book.bid >= order.ticks):
                self.post_only_rejects += 1
                del self._orders[order.order_id]
                self._seq += 1
                heapq.heappush(self._rejects, (at + self.response_latency_ms, self._seq, order.client_order_id))
                continue
            shown = book.qty_at(order.is_buy, order.ticks)
            if shown is None:
                self.joined_unknown += 1
                if not book.unknown_warned:
                    book.unknown_warned = True
                    log.warning("order joined a price level not known yet (no snapshot): queue ahead taken as 0",
                                extra={"symbol": book.symbol})
                shown = 0
            order.ahead = shown
            self.joined += 1
            self.ahead_sum += shown
            self._resting[book.symbol].append(order)
        self._pending[book.symbol] = keep

    def _depth_changes(self, book: OrderBook, resting: list[_Order], before: list[int | None]) -> None:
        for order, old in zip(resting, before, strict=True):
            new = book.qty_at(order.is_buy, order.ticks)
            if old is None or new is None or new == old:
                continue
            if new < old:
                unexplained = old - new - order.traded
                if unexplained > 0 and self.proportional and order.ahead:
                    order.ahead -= order.ahead * unexplained // old
            order.traded = 0
            order.ahead = min(order.ahead, new)

    def _on_trade(self, ev: TradePrint, resting: list[_Order]) -> None:
        hits_bids = ev.aggressor_side == "SELL"
        for order in list(resting):
            if order.is_buy is not hits_bids:
                continue
            if ev.price == order.ticks:
                order.traded += ev.qty
                ahead = order.ahead - ev.qty
                if ahead >= 0:
                    order.ahead = ahead
                    continue
                order.ahead = 0
                self._fill(order, min(-ahead, order.lots - order.filled), ev.exch_ms, BY_TRADE)
            elif (ev.price < order.ticks) if hits_bids else (ev.price > order.ticks):
                self._fill(order, order.lots - order.filled, ev.exch_ms, BY_TRADE_THROUGH)

    def _on_touch(self, book: OrderBook, resting: list[_Order], now_ms: int) -> None:
        bid, ask = book.bid, book.ask
        for order in list(resting):
            if (ask <= order.ticks) if order.is_buy else (bid >= order.ticks):
                self._fill(order, order.lots - order.filled, now_ms, BY_CROSS)

    def _fill(self, order: _Order, lots: int, now_ms: int, why: str) -> None:
        if lots <= 0:
            return
        order.filled += lots
        if order.first_fill_ms < 0:
            order.first_fill_ms = now_ms
            self.first_fills += 1
            self.first_fill_wait_ms += max(0, now_ms - order.arrive_ms)
        if order.filled == order.lots:
            self._resting[order.symbol].remove(order)
        lot = self.grids[order.symbol][1]
        qty = lots * lot
        totals = self._executions.get(order.symbol)
        if totals is None:
            totals = self._executions[order.symbol] = ExecutionTotals()
        totals.add(order.is_buy, qty, order.price, True)
        self._fill_seq += 1
        self.fills_by[why] += 1
        fill = tuple.__new__(FillEvent, (order.client_order_id, order.order_id, order.symbol, order.side, qty,
                                         order.price, now_ms, True, f"EXE{self._fill_seq:08d}"))
        self._pnl.on_fill(fill)
        order.in_flight += 1
        self._seq += 1
        heapq.heappush(self._outbox, (now_ms + self.response_latency_ms, self._seq, fill))
        if self.fill_log is not None:
            self.fill_log.append((order.symbol, order.is_buy, order.ticks, lots, now_ms, why, order.arrive_ms))
        for listener in self.execution_listeners:
            listener(fill)

    # ------------------------------------------------------------------ responses (local side)
    def next_fill_ms(self) -> int | None:
        """Local time the next fill reaches the strategy (``None``: nothing in flight)."""
        return self._outbox[0][0] if self._outbox else None

    def stream_fills(self) -> Iterator[FillEvent]:
        """Fills that have reached the strategy by now (rejects are taken by :meth:`take_rejects`)."""
        outbox, now = self._outbox, self.clock.now_ms()
        while outbox and outbox[0][0] <= now:
            fill = heapq.heappop(outbox)[2]
            order = self._orders.get(fill.order_id)
            if order is not None:
                order.in_flight -= 1
                if order.filled == order.lots and not order.in_flight:
                    del self._orders[order.order_id]
            yield fill

    def take_rejects(self) -> list[str]:
        """Client order ids of post-only rejects that have reached the strategy by now."""
        out: list[str] = []
        rejects, now = self._rejects, self.clock.now_ms()
        while rejects and rejects[0][0] <= now:
            out.append(heapq.heappop(rejects)[2])
        return out

    @property
    def reject_reason(self) -> str:
        """Why this venue rejects an acknowledged order (a post-only order that would take liquidity)."""
        return POST_ONLY_REJECT

    def next_reject_ms(self) -> int | None:
        return self._rejects[0][0] if self._rejects else None

    def last_due_ms(self) -> int:
        """Local time by which everything in flight has reached the strategy."""
        return max([due for due, _, _ in self._outbox] + [due for due, _, _ in self._rejects] + [0])

    # ------------------------------------------------------------------ queries
    def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        grids = self.grids
        return [o.open_order(*grids[o.symbol]) for o in self._orders.values()
                if (symbol is None or o.symbol == symbol) and o.filled < o.lots]

    def get_positions(self) -> list[Position]:
        return [self._pnl.position(symbol) for symbol in sorted(self._executions)]

    def execution_totals(self) -> dict[str, ExecutionTotals]:
        return dict(self._executions)

    def report_section(self) -> dict[str, Any]:
        """The venue's part of the run report (the ``Venue`` port's optional extension)."""
        return {"queue": self.queue_section()}

    def queue_section(self) -> dict[str, Any]:
        def mean(total: int, count: int) -> Decimal | None:
            return (Decimal(total) / count).quantize(Decimal("0.001")) if count else None

        return {
            "model": self.queue_model,
            "orders_joined": self.joined,
            "joined_unknown_level": self.joined_unknown,
            "mean_queue_ahead_lots": mean(self.ahead_sum, self.joined),
            "orders_filled_at_least_once": self.first_fills,
            "mean_time_to_first_fill_ms": mean(self.first_fill_wait_ms, self.first_fills),
            "post_only_rejects": self.post_only_rejects,
            "post_only_reject_reason": POST_ONLY_REJECT,
            "cancel_races": self.cancel_races,
            "fills_by": dict(self.fills_by),
            "pending_at_end": sum(len(v) for v in self._pending.values()),
        }
