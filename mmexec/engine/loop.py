"""ExecutionLoop: quotes -> risk check -> orders -> fills -> positions -> freeze.

Quoting policy (one resting order per side and symbol): join the touch (buy at the bid, sell at the ask)
with the symbol's quote size. A resting order is kept while its price is within ``requote_bps`` of the
new touch, else canceled and replaced. Prices live on each instrument's tick grid; the hot path works in
integer ticks and builds ``Decimal`` prices only when it places an order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from mmexec.engine.clock import VirtualClock
from mmexec.engine.market import Instrument, SyntheticMarket
from mmexec.engine.models import FillEvent, Number, OrderState, PlaceOrderRequest, Quote, Side, to_decimal
from mmexec.engine.order_store import InMemoryOrderStore, StoredOrder
from mmexec.engine.report import LoopStats, build_core_report
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.exchanges.base import IExchangeClient

FillListener = Callable[[FillEvent], object]  # return values are ignored
ProgressCallback = Callable[[int, int], None]
_BUY, _SELL = Side.BUY, Side.SELL
_FILLED = OrderState.FILLED


@dataclass(frozen=True)
class ExecutionParams:
    """What a shadow run does. The risk limits enforced are the risk monitor's; these are echoed in reports."""

    symbols: list[str]
    iterations: int
    max_inventory_usd_per_symbol: Number = Decimal("10000")
    max_total_notional_usd: Number = Decimal("50000")
    edge_freeze_threshold_bps: Number = Decimal("1.5")
    seed: int = 42
    quote_interval_ms: int = 100
    order_notional_usd: Number = Decimal("1000")
    requote_bps: Number = Decimal("2")
    unfreeze_after_ms: int | None = None
    ref_prices: Mapping[str, Number] = field(default_factory=dict)
    spread_bps: Number = Decimal("4")
    volatility_bps: Number = Decimal("1")
    edge_mean_bps: float = 3.0
    utc: str | None = None

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ValueError("symbols must not be empty")
        if self.iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if self.quote_interval_ms < 1:
            raise ValueError(f"quote_interval_ms must be >= 1, got {self.quote_interval_ms}")
        if self.unfreeze_after_ms is not None and self.unfreeze_after_ms < 0:
            raise ValueError("unfreeze_after_ms must be >= 0")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError(f"symbols repeat: {list(self.symbols)}")

    def make_market(self) -> SyntheticMarket:
        return SyntheticMarket(
            list(self.symbols),
            self.seed,
            ref_prices={s: to_decimal(p) for s, p in self.ref_prices.items()},
            order_notional=to_decimal(self.order_notional_usd),
            spread_bps=to_decimal(self.spread_bps),
            volatility_bps=to_decimal(self.volatility_bps),
            edge_mean_bps=self.edge_mean_bps,
        )


class _Book:
    """Per-symbol quoting state: the resting order on each side, in ticks."""

    __slots__ = ("ask", "ask_blocked_at", "ask_ticks", "bid", "bid_blocked_at", "bid_ticks", "inst",
                 "last_ask_ticks", "last_bid_ticks", "requote_ticks", "symbol")

    def __init__(self, inst: Instrument, requote_bps: Decimal) -> None:
        self.inst = inst
        self.symbol = inst.symbol
        self.requote_ticks = int(inst.ref_price * requote_bps / 10_000 / inst.tick_size)
        self.bid: StoredOrder | None = None
        self.ask: StoredOrder | None = None
        self.bid_ticks = 0
        self.ask_ticks = 0
        self.last_bid_ticks = 0
        self.last_ask_ticks = 0
        # risk version at which an empty side was last blocked (-1: not blocked, retry at once)
        self.bid_blocked_at = -1
        self.ask_blocked_at = -1

    @property
    def last_mid(self) -> Decimal | None:
        """Mid of the last quote seen (None before the first quote)."""
        if not self.last_bid_ticks and not self.last_ask_ticks:
            return None
        return (self.last_bid_ticks + self.last_ask_ticks) * self.inst.tick_size / 2


class ExecutionLoop:
    """Drives an exchange client with risk checks and an order store; see the module docstring."""

    def __init__(
        self,
        exchange: IExchangeClient,
        order_store: InMemoryOrderStore,
        risk_monitor: RuntimeRiskMonitor,
        *,
        clock: VirtualClock | None = None,
    ) -> None:
        self.exchange = exchange
        self.order_store = order_store
        self.risk_monitor = risk_monitor
        shared = getattr(exchange, "clock", None)
        self.clock: VirtualClock = clock or (shared if isinstance(shared, VirtualClock) else VirtualClock())
        self.stats = LoopStats()
        self.fill_listeners: list[FillListener] = []
        self._books: dict[str, _Book] = {}
        self._frozen_at_ms: int | None = None
        self.run_started_ms = self.clock.now_ms()
        self.freezes_at_start = 0
        self.market: SyntheticMarket | None = None
        # Injected instruments (replay: grids from the market source) and the requote band of quote().
        self.instruments: dict[str, Instrument] = {}
        self.requote_bps = Decimal("2")
        # Optional exchange extension: the time of the earliest scheduled fill, to skip idle polls.
        self._next_fill_ms: Callable[[], int | None] | None = getattr(exchange, "next_fill_ms", None)

    # ---------------------------------------------------------------- books
    def _book(self, symbol: str, params: ExecutionParams) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            inst = self.instruments.get(symbol) or (self.market.instruments.get(symbol) if self.market else None)
            if inst is None:
                refs = params.ref_prices
                ref = to_decimal(refs[symbol]) if symbol in refs else None
                inst = Instrument.for_symbol(symbol, ref, to_decimal(params.order_notional_usd))
            book = self._books[symbol] = _Book(inst, to_decimal(params.requote_bps))
        return book

    # ---------------------------------------------------------------- quotes
    def on_quote(self, quote: Quote, params: ExecutionParams) -> None:
        """Quote both sides of ``quote.symbol`` (unless frozen). Off-grid prices round to the passive side."""
        book = self._book(quote.symbol, params)
        tick = book.inst.tick_size
        bid = int((quote.bid / tick).to_integral_value(rounding=ROUND_FLOOR))
        ask = int((quote.ask / tick).to_integral_value(rounding=ROUND_CEILING))
        self.stats.quotes += 1
        self._quote(book, bid, ask)

    def quote(self, symbol: str, bid_ticks: int, ask_ticks: int) -> None:
        """Quote ``symbol`` at these prices in ticks (its instrument must be in :attr:`instruments`)."""
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = _Book(self.instruments[symbol], self.requote_bps)
        self.stats.quotes += 1
        self._quote(book, bid_ticks, ask_ticks)

    def on_order_rejected(self, client_order_id: str) -> None:
        """The venue refused an acknowledged order (post-only that would cross on arrival): it is gone."""
        order = self.order_store.get(client_order_id)
        if order is None or not order.state.is_active:
            return
        self.order_store.mark_canceled(client_order_id, now_ms=self.clock._now_ms)
        self.risk_monitor.reserve(order.symbol, order.side, -(order.remaining_qty * order.price))
        self.stats.rejected += 1
        self._release(order)

    def _quote(self, book: _Book, bid: int, ask: int) -> None:
        # Invariant: book.bid / book.ask is None or an active order (fills and cancels clear it).
        # An empty side is retried at once, except after a risk block: then it waits, like a resting
        # order, until the risk state changes or the touch moves more than requote_bps.
        book.last_bid_ticks = bid
        book.last_ask_ticks = ask
        risk = self.risk_monitor
        if risk._frozen:
            return
        version = risk.version
        rq = book.requote_ticks
        order = book.bid
        if abs(book.bid_ticks - bid) > rq or (order is None and book.bid_blocked_at != version):
            if order is not None:
                self._cancel(order)
            self._place(book, _BUY, bid)
        order = book.ask
        if abs(book.ask_ticks - ask) > rq or (order is None and book.ask_blocked_at != version):
            if order is not None:
                self._cancel(order)
            self._place(book, _SELL, ask)

    def _place(self, book: _Book, side: Side, ticks: int) -> None:
        risk = self.risk_monitor
        stats = self.stats
        inst = book.inst
        price = ticks * inst.tick_size
        qty = inst.order_qty
        symbol = book.symbol
        buy = side is _BUY
        if buy:
            book.bid_ticks = ticks
        else:
            book.ask_ticks = ticks
        reason = risk.evaluate(symbol, side, qty, price)
        if reason is not None:
            risk.count_block(reason)
            stats.risk_blocks += 1
            if buy:
                book.bid_blocked_at = risk.version
            else:
                book.ask_blocked_at = risk.version
            return
        if buy:
            book.bid_blocked_at = -1
        else:
            book.ask_blocked_at = -1
        now = self.clock._now_ms
        store = self.order_store
        order = store.create(symbol, side, qty, price, now_ms=now)
        coid = order.client_order_id
        response = self.exchange.place_limit(PlaceOrderRequest.exact(coid, symbol, side, qty, price))
        stats.placed += 1
        if not response.success or response.order_id is None:
            store.mark_rejected(coid, response.message, now_ms=now)
            stats.rejected += 1
            return
        store.open_order(order, response.order_id, now)
        risk.reserve(symbol, side, qty * price)
        if buy:
            book.bid = order
        else:
            book.ask = order

    def _release(self, order: StoredOrder) -> None:
        """Forget a no-longer-active order in its book."""
        book = self._books.get(order.symbol)
        if book is not None:
            if book.bid is order:
                book.bid = None
            elif book.ask is order:
                book.ask = None

    def _cancel(self, order: StoredOrder) -> bool:
        if order.order_id is None or not self.exchange.cancel(order.order_id):
            self.stats.cancel_failures += 1
            return False
        self.order_store.mark_canceled(order.client_order_id, now_ms=self.clock._now_ms)
        self.risk_monitor.reserve(order.symbol, order.side, -(order.remaining_qty * order.price))
        self.stats.canceled += 1
        self._release(order)
        return True

    def cancel_all(self) -> int:
        """Cancel every active order; returns how many were canceled."""
        return sum(1 for order in self.order_store.get_open_orders() if self._cancel(order))

    # ---------------------------------------------------------------- fills
    def on_fill(self) -> int:
        """Apply every fill the exchange has released; returns how many were processed."""
        next_due = self._next_fill_ms
        if next_due is not None:
            due = next_due()
            if due is None or due > self.clock._now_ms:
                return 0
        count = 0
        store = self.order_store
        risk = self.risk_monitor
        stats = self.stats
        for fill in self.exchange.stream_fills():
            order = store.get(fill.client_order_id)
            if order is None:
                stats.unknown_fills += 1
                continue
            store.fill_order(order, fill.qty, fill.timestamp_ms)
            risk.on_execution(order.symbol, order.side, fill.qty, fill.price, order.price)
            stats.fills += 1
            if order.state is _FILLED:
                stats.filled += 1
                self._release(order)
            else:
                stats.partial_fills += 1
            for listener in self.fill_listeners:
                listener(fill)
            count += 1
        return count

    # ---------------------------------------------------------------- edge / freeze
    def on_edge_update(self, symbol: str, net_bps: Number) -> bool:
        """Feed the edge to the risk monitor; on a freeze, cancel every open order. True if it froze now."""
        now = self.clock.now_ms()
        if not self.risk_monitor.on_edge_update(symbol, net_bps, timestamp_ms=now):
            return False
        self._frozen_at_ms = now
        self.cancel_all()
        return True

    def _maybe_unfreeze(self, params: ExecutionParams) -> None:
        after = params.unfreeze_after_ms
        frozen_at = self._frozen_at_ms
        if after is None or frozen_at is None or self.clock.now_ms() - frozen_at < after:
            return
        if self.risk_monitor.edges_recovered() and self.risk_monitor.unfreeze():
            self._frozen_at_ms = None

    # ---------------------------------------------------------------- the run
    def run_shadow(self, params: ExecutionParams, *, progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Run ``params.iterations`` steps of the synthetic market over every symbol; return the report.

        Each step: advance the clock by ``quote_interval_ms``, apply due fills, then per symbol: new quote,
        edge update (may freeze and cancel everything), quoting. The result is JSON-native (floats).
        """
        from mmexec.canonical import to_jsonable

        return to_jsonable(self.run(params, progress=progress), fragments=False)  # type: ignore[no-any-return]

    def run(self, params: ExecutionParams, *, progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Like :meth:`run_shadow` but the report keeps exact ``Decimal`` values."""
        market = self.market = params.make_market()
        self.run_started_ms = self.clock.now_ms()
        self.freezes_at_start = self.risk_monitor.freezes_total
        books = [self._book(symbol, params) for symbol in params.symbols]
        steps = [(book, book.symbol, market.walk(book.symbol)) for book in books]
        advance = self.clock.advance
        interval = params.quote_interval_ms
        risk = self.risk_monitor
        threshold = risk.edge_freeze_threshold_bps
        # Fast float guard band around the exact Decimal threshold; the exact comparison decides inside it.
        near = float(threshold) + 1e-6
        on_fill = self.on_fill
        on_edge = self.on_edge_update
        latest_edges = risk.latest_edges
        quote = self._quote
        every = max(1, params.iterations // 100)
        for i in range(params.iterations):
            advance(interval)
            on_fill()
            if self._frozen_at_ms is not None:
                self._maybe_unfreeze(params)
            for book, symbol, step in steps:
                bid, ask, edge = step()
                latest_edges[symbol] = edge
                if edge < near:
                    on_edge(symbol, edge)
                quote(book, bid, ask)
            if progress is not None and (i + 1) % every == 0:
                progress(i + 1, params.iterations)
        self.stats.quotes += params.iterations * len(steps)
        self.stats.iterations += params.iterations
        return build_core_report(self, params)
