"""ExecutionLoop: quotes -> risk check -> orders -> fills -> positions -> freeze.

The loop drives a :class:`~mmexec.engine.ports.Venue` with pre-trade checks (:class:`RuntimeRiskMonitor`) and
a book of record (:class:`InMemoryOrderStore`); where it rests its orders is the :class:`QuotingPolicy`'s
decision. Prices live on each instrument's tick grid: the hot path works in integer ticks and builds
``Decimal`` prices only when it places an order. Market data comes from a
:class:`~mmexec.engine.ports.MarketSource` (instruments) -- the loop steps a stepped source itself
(:meth:`run`), event-driven drivers call :meth:`quote`.

Fixed point: orders, risk and fills travel as integer ticks and lots of each instrument's grid. A venue with
the optional :class:`~mmexec.engine.ports.TickVenue` extension is driven in integers end to end; any other
:class:`~mmexec.engine.ports.Venue` gets ``Decimal`` requests and gives ``FillEvent`` s. ``tick_listeners``
(:class:`~mmexec.engine.ports.TickFillListener`: the fee ledger, PnL) take fills as integers; ``FillEvent`` s
are built only when a ``fill_listener`` or journal hook is registered.

Observers: ``fill_listeners`` (every applied fill), ``journal_hooks`` (order events, fills, steps),
``step_hooks`` (virtual time after each step) and ``risk_listeners`` (freezes and unfreezes). The engine
prints nothing and reads no clock but its :class:`VirtualClock`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial
from types import MappingProxyType
from typing import Any

from mypy_extensions import mypyc_attr

from mmexec.engine.book import QuoteBook
from mmexec.engine.clock import VirtualClock
from mmexec.engine.market import Instrument
from mmexec.engine.models import FillEvent, Number, OrderState, PlaceOrderRequest, Quote, Side, to_decimal
from mmexec.engine.order_store import InMemoryOrderStore, StoredOrder
from mmexec.engine.params import ExecutionParams
from mmexec.engine.ports import (
    FillListener,
    JournalHook,
    MarketSource,
    OrderEvent,
    ProgressCallback,
    RiskListener,
    RiskNotice,
    StepHook,
    SteppedMarket,
    TickFillListener,
    TickJournalHook,
    TickVenue,
    Venue,
)
from mmexec.engine.report import LoopStats, build_core_report
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.engine.strategy import QuotingPolicy

_BUY, _SELL = Side.BUY, Side.SELL
_FILLED = OrderState.FILLED
_AMOUNTS_KEPT = 65_536  # memoised order amounts of journaled runs, then cleared
_CANCELED = OrderState.CANCELED
_NEVER = 1 << 62  # later than any virtual time
UtcSource = Callable[[], str | None]


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: mmexec.compat subclasses it
class ExecutionLoop:
    """Drives a venue with risk checks and an order store; see the module docstring."""

    def __init__(
        self,
        exchange: Venue,
        order_store: InMemoryOrderStore,
        risk_monitor: RuntimeRiskMonitor,
        *,
        clock: VirtualClock | None = None,
        policy: QuotingPolicy | None = None,
        utc: UtcSource | None = None,
    ) -> None:
        self.exchange = exchange
        self.order_store = order_store
        self.risk_monitor = risk_monitor
        shared = getattr(exchange, "clock", None)
        self.clock: VirtualClock = clock or (shared if isinstance(shared, VirtualClock) else VirtualClock())
        self._policy_obj: QuotingPolicy | None = None
        self._shifted: QuotingPolicy | None = None  # the policy when its targets differ from the touch
        self.policy = policy
        self.utc = utc  # stamps runtime.utc when the params carry none (the engine never reads the wall clock)
        self.stats = LoopStats()
        self.fill_listeners: list[FillListener] = []
        self.tick_listeners: list[TickFillListener] = []
        self.journal_hooks: list[JournalHook] = []
        self._journal_amounts: dict[tuple[str, int], Decimal] = {}
        # the journal hooks split by the integer extension (see _journal_split), for these hooks
        self._journal_key: tuple[JournalHook, ...] = ()
        self._journal_ticks: tuple[TickJournalHook, ...] = ()
        self._journal_events: tuple[JournalHook, ...] = ()
        self.step_hooks: list[StepHook] = []
        self._hooks_due_ms = 0  # the earliest time a step hook asked to be called again (see after_step)
        self.risk_listeners: list[RiskListener] = []
        self._books: dict[str, QuoteBook] = {}
        self._frozen_at_ms: int | None = None
        self._unfreeze_after_ms: int | None = None
        self.run_started_ms = self.clock.now_ms()
        self.freezes_at_start = 0
        self.quotes_at_start = 0
        self.market: MarketSource | None = None
        # Optional venue extension: the time of the earliest scheduled fill, to skip idle polls.
        self._next_fill_ms: Callable[[], int | None] | None = getattr(exchange, "next_fill_ms", None)
        # Optional venue extension: orders and fills in integer ticks and lots.
        self._ticks: TickVenue | None = exchange if isinstance(exchange, TickVenue) else None

    # ---------------------------------------------------------------- instruments and books
    @property
    def books(self) -> Mapping[str, QuoteBook]:
        """The quoting state per symbol (read-only view)."""
        return MappingProxyType(self._books)

    def last_mids(self, symbols: list[str] | None = None) -> dict[str, Decimal | None]:
        """The mid of the last quote seen per symbol (``None`` before the first quote)."""
        names = symbols if symbols is not None else list(self._books)
        return {s: (book.last_mid if (book := self._books.get(s)) is not None else None) for s in names}

    def add_instruments(self, instruments: Mapping[str, Instrument], *, requote_bps: Number | None = None) -> None:
        """Register the instruments to quote (a market source's); already registered symbols are kept."""
        policy = self._policy(requote_bps)
        risk = self.risk_monitor
        for symbol, inst in instruments.items():
            if symbol not in self._books:
                tick, lot = inst.tick_size, inst.lot_size
                risk.set_grid(symbol, tick, lot)
                self._books[symbol] = QuoteBook(inst, policy.requote_ticks(inst), risk.exposure(symbol))
                self.order_store.set_grid(symbol, tick, lot)
                venue_grid = getattr(self.exchange, "set_grid", None)  # part of TickVenue, useful without it too
                if callable(venue_grid):
                    venue_grid(symbol, tick, lot)
        self._sync_grids()

    def add_tick_listener(self, listener: TickFillListener) -> None:
        """Register a listener of integer fills (it learns the grid of every instrument, now and later)."""
        self.tick_listeners.append(listener)
        self._sync_grids()

    def _sync_grids(self) -> None:
        for book in self._books.values():
            for listener in self.tick_listeners:
                listener.set_grid(book.symbol, book.tick, book.lot)

    def use_source(self, source: MarketSource, *, requote_bps: Number | None = None) -> None:
        """Trade the instruments of ``source`` (drivers then call :meth:`quote` or :meth:`run`)."""
        self.market = source
        self.add_instruments(source.instruments, requote_bps=requote_bps)

    @property
    def policy(self) -> QuotingPolicy | None:
        """The quoting policy (``None`` until set or derived from the first params' ``requote_bps``)."""
        return self._policy_obj

    @policy.setter
    def policy(self, policy: QuotingPolicy | None) -> None:
        self._policy_obj = policy
        self._shifted = policy if policy is not None and not policy.at_touch else None

    def _policy(self, requote_bps: Number | None) -> QuotingPolicy:
        if self._policy_obj is None:
            self.policy = QuotingPolicy(requote_bps=to_decimal(requote_bps if requote_bps is not None else 2),
                                        max_inventory_usd=self.risk_monitor.max_inventory_usd_per_symbol)
        assert self._policy_obj is not None
        return self._policy_obj

    def _book(self, symbol: str, params: ExecutionParams) -> QuoteBook:
        book = self._books.get(symbol)
        if book is None:
            market = self.market
            inst = market.instruments.get(symbol) if market is not None else None
            self.add_instruments({symbol: inst or params.instrument(symbol)}, requote_bps=params.requote_bps)
            book = self._books[symbol]
        return book

    # ---------------------------------------------------------------- quotes
    def on_quote(self, quote: Quote, params: ExecutionParams) -> None:
        """Quote both sides of ``quote.symbol`` (unless frozen). Off-grid prices round to the passive side."""
        book = self._book(quote.symbol, params)
        tick = book.inst.tick_size
        bid = int((quote.bid / tick).to_integral_value(rounding=ROUND_FLOOR))
        ask = int((quote.ask / tick).to_integral_value(rounding=ROUND_CEILING))
        self.stats.quotes += 1
        self._quote(book, bid, ask, self.clock.now_ms())

    def quote(self, symbol: str, bid_ticks: int, ask_ticks: int) -> None:
        """Apply the quoting policy to a touch of a registered instrument (see :meth:`add_instruments`)."""
        book = self._books.get(symbol)
        if book is None:
            raise KeyError(f"{symbol} is not a registered instrument of this loop")
        self.stats.quotes += 1
        self._quote(book, bid_ticks, ask_ticks, self.clock.now_ms())

    def _quote(self, book: QuoteBook, bid: int, ask: int, now: int) -> None:
        # Invariant: book.bid / book.ask is None or an active order (fills and cancels clear it).
        # An empty side is retried at once, except after a risk block: then it waits, like a resting
        # order, until the risk state changes or the touch moves more than requote_bps.
        book.last_bid_ticks = bid
        book.last_ask_ticks = ask
        risk = self.risk_monitor
        exposure = book.exposure
        if bid + ask != exposure.mark_key:  # the total limit values every symbol at its latest mid
            risk.mark_mid(exposure, bid + ask)
        if risk.frozen:
            return
        shifted = self._shifted
        if shifted is not None:
            bid, ask = shifted.targets(book.inst, bid, ask, risk.position(book.symbol))
        version = risk.version
        rq = book.requote_ticks
        order = book.bid
        moved = book.bid_ticks - bid  # |moved| > rq, without the abs() call (this runs for every quote)
        # A side whose cancel failed keeps its order: never two resting orders on one side.
        if (moved > rq or moved < -rq or (order is None and book.bid_blocked_at != version)) and (
                order is None or self._cancel(order)):
            self._place(book, _BUY, bid, now)
        order = book.ask
        moved = book.ask_ticks - ask
        if (moved > rq or moved < -rq or (order is None and book.ask_blocked_at != version)) and (
                order is None or self._cancel(order)):
            self._place(book, _SELL, ask, now)

    def _place(self, book: QuoteBook, side: Side, ticks: int, now: int) -> None:
        risk = self.risk_monitor
        stats = self.stats
        lots = book.lots
        symbol = book.symbol
        buy = side is _BUY
        if buy:
            book.bid_ticks = ticks
        else:
            book.ask_ticks = ticks
        reason = risk.check(book.exposure, buy, lots, ticks)
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
        store = self.order_store
        venue = self._ticks
        stats.placed += 1
        if venue is not None:  # integers end to end
            coid = store.next_client_order_id()
            order_id = venue.place_ticks(coid, symbol, buy, lots, ticks)
            order = store.add_placed(coid, symbol, side, lots, ticks, order_id, now,
                                     venue.last_reject_message if order_id is None else "")
            accepted = order_id is not None
        else:
            qty, price = book.inst.order_qty, ticks * book.tick
            order = store.create(symbol, side, qty, price, now_ms=now)
            response = self.exchange.place_limit(PlaceOrderRequest.exact(order.client_order_id, symbol, side, qty,
                                                                         price))
            accepted = response.success and response.order_id is not None
            if accepted:
                store.open_order(order, response.order_id or "", now)
            else:
                store.reject_order(order, response.message, now)
        if not accepted:
            stats.rejected += 1
            if self.journal_hooks:
                self._journal("rejected", order, now)
            return
        risk.reserve_ticks(book.exposure, buy, lots * ticks)
        if buy:
            book.bid = order
        else:
            book.ask = order
        if self.journal_hooks:
            self._journal("open", order, now)

    def _journal_split(self) -> tuple[tuple[TickJournalHook, ...], tuple[JournalHook, ...]]:
        """The journal hooks with the integer extension (:class:`TickJournalHook`: plain values for orders and fills
        on their symbol's grid) and the others (events), worked out again only when the hooks change."""
        hooks = tuple(self.journal_hooks)
        if hooks != self._journal_key:
            self._journal_key = hooks
            self._journal_ticks = tuple(h for h in hooks if isinstance(h, TickJournalHook))
            self._journal_events = tuple(h for h in hooks if not isinstance(h, TickJournalHook))
        return self._journal_ticks, self._journal_events

    def _journal(self, kind: str, order: StoredOrder, now: int) -> None:
        # An order on its symbol's grid goes to the integer hooks as plain values; the other hooks (every hook,
        # for an order off the grid) get an OrderEvent, built once for all of them.
        ticks, event_hooks = self._journal_split()
        if not order.registered:
            event_hooks = tuple(self.journal_hooks)
        else:
            for hook in ticks:
                hook.on_order_ticks(kind, order.client_order_id, order.order_id, order.symbol, order.side is _BUY,
                                    order.lots, order.ticks, order.state, now, order.message)
        if event_hooks:
            event = self._order_event(kind, order, now)
            for event_hook in event_hooks:
                event_hook.on_order_event(event)

    def _order_event(self, kind: str, order: StoredOrder, now: int) -> OrderEvent:
        # An order's quantity and price as Decimals, memoised per (symbol, lots) / (symbol, ticks) for orders on
        # their symbol's grid: a journaled busy run builds them for every order event (bounded, then cleared).
        amounts = self._journal_amounts
        if order.registered:
            symbol = order.symbol
            qty = amounts.get((symbol, order.lots))
            if qty is None:
                if len(amounts) > _AMOUNTS_KEPT:
                    amounts.clear()
                qty = amounts[(symbol, order.lots)] = order.qty
            price = amounts.get((symbol, -1 - order.ticks))
            if price is None:
                price = amounts[(symbol, -1 - order.ticks)] = order.price
        else:
            qty, price = order.qty, order.price
        return OrderEvent(kind, order.client_order_id, order.order_id, order.symbol, order.side, qty,
                          price, order.state, now, order.message)

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
        now = self.clock.now_ms()
        self.order_store.cancel_order(order, now)
        self._release_reservation(order)
        self.stats.canceled += 1
        self._release(order)
        if self.journal_hooks:
            self._journal("canceled", order, now)
        return True

    def on_order_rejected(self, client_order_id: str, message: str = "") -> bool:
        """The venue refused an order it had acknowledged (a post-only order that would take liquidity on
        arrival): it is REJECTED, its reservation released and its side free. False if it is no longer active."""
        order = self.order_store.get(client_order_id)
        if order is None or order.state is not OrderState.OPEN:
            return False
        now = self.clock.now_ms()
        self.order_store.reject_order(order, message, now)
        self._release_reservation(order)
        self.stats.rejected += 1
        self._release(order)
        if self.journal_hooks:
            self._journal("rejected", order, now)
        return True

    def _release_reservation(self, order: StoredOrder) -> None:
        """Release the risk reservation of ``order``'s unfilled remainder (in integers when on its grid)."""
        book = self._books.get(order.symbol)
        if book is not None and order.registered:
            self.risk_monitor.reserve_ticks(book.exposure, order.side is _BUY,
                                            -(order.lots - order.filled_lots) * order.ticks)
        else:
            self.risk_monitor.reserve(order.symbol, order.side, -(order.remaining_qty * order.price))

    def cancel_all(self) -> int:
        """Cancel every active order; returns how many were canceled."""
        return sum(1 for order in self.order_store.get_open_orders() if self._cancel(order))

    # ---------------------------------------------------------------- fills
    def on_fill(self) -> int:
        """Apply every fill the venue has released; returns how many were processed.

        A fill of an order canceled meanwhile (it raced the cancel on the venue) is applied too: its
        quantity, position, fees and PnL count; only the unfilled remainder was released by the cancel.
        """
        next_due = self._next_fill_ms
        if next_due is not None:
            due = next_due()
            if due is None or due > self.clock.now_ms():
                return 0
        if self._ticks is not None:
            return self._apply_tick_fills(self._ticks)
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
            if order.state is _CANCELED:
                risk.apply_fill(order.symbol, order.side, fill.qty, fill.price)  # its reservation is gone
                stats.late_fills += 1
            else:
                risk.on_execution(order.symbol, order.side, fill.qty, fill.price, order.price)
                self._count_fill(order)
            stats.fills += 1
            for tick_listener in self.tick_listeners:
                tick_listener.on_fill(fill)
            self._fill_event(fill)
            count += 1
        return count

    def _count_fill(self, order: StoredOrder) -> None:
        if order.state is _FILLED:
            self.stats.filled += 1
            self._release(order)
        else:
            self.stats.partial_fills += 1

    def _apply_tick_fills(self, venue: TickVenue) -> int:
        """:meth:`on_fill` for a :class:`TickVenue`: integers only, unless a listener wants ``FillEvent`` s."""
        count = 0
        store = self.order_store
        risk = self.risk_monitor
        stats = self.stats
        books = self._books
        tick_listeners = self.tick_listeners
        # journal hooks with the integer extension (TickJournalHook) take plain values; the others FillEvents
        journal_ticks, journal_events = self._journal_split() if self.journal_hooks else ((), ())
        events = bool(self.fill_listeners or journal_events)
        for coid, lots, ticks, timestamp_ms, is_maker, fill_id in venue.stream_fill_ticks():
            order = store.get(coid)
            if order is None:
                stats.unknown_fills += 1
                continue
            symbol = order.symbol
            buy = order.side is _BUY
            exposure = books[symbol].exposure
            store.fill_lots(order, lots, timestamp_ms)
            if order.state is _CANCELED:
                risk.fill_ticks(exposure, buy, lots, ticks, None)  # its reservation is gone
                stats.late_fills += 1
            else:
                risk.fill_ticks(exposure, buy, lots, ticks, order.ticks)
                self._count_fill(order)
            stats.fills += 1
            for listener in tick_listeners:
                listener.on_ticks(symbol, buy, lots, ticks, is_maker, timestamp_ms)
            if events:
                book = books[symbol]
                self._fill_event(FillEvent(coid, order.order_id or "", symbol, order.side, lots * book.lot,
                                           ticks * book.tick, timestamp_ms, is_maker, fill_id), journal_events)
            for journal in journal_ticks:
                journal.on_fill_ticks(coid, order.order_id or "", symbol, buy, lots, ticks, timestamp_ms, is_maker,
                                      fill_id)
            count += 1
        return count

    def _fill_event(self, fill: FillEvent, journal_hooks: Sequence[JournalHook] | None = None) -> None:
        """``fill`` to the fill listeners, then to ``journal_hooks`` (default: every journal hook)."""
        for listener in self.fill_listeners:
            listener(fill)
        for hook in self.journal_hooks if journal_hooks is None else journal_hooks:
            hook.on_fill(fill)

    # ---------------------------------------------------------------- edge / freeze
    def on_edge_update(self, symbol: str, net_bps: Number) -> bool:
        """Feed the edge to the risk monitor; on a freeze, cancel every open order. True if it froze now."""
        now = self.clock.now_ms()
        risk = self.risk_monitor
        if not risk.on_edge_update(symbol, net_bps, timestamp_ms=now):
            return False
        self._frozen_at_ms = now
        self.cancel_all()
        if self.risk_listeners:
            event = risk.freeze_log[-1]
            self._notify(RiskNotice(True, symbol, event.reason, event.edge_bps, event.threshold_bps,
                                    now - self.run_started_ms, self._unfreeze_after_ms))
        return True

    def _notify(self, notice: RiskNotice) -> None:
        for listener in self.risk_listeners:
            listener(notice)

    def _maybe_unfreeze(self, after: int | None) -> None:
        frozen_at = self._frozen_at_ms
        now = self.clock.now_ms()
        if after is None or frozen_at is None or now - frozen_at < after:
            return
        risk = self.risk_monitor
        if risk.edges_recovered() and risk.unfreeze():
            self._frozen_at_ms = None
            if self.risk_listeners:
                self._notify(RiskNotice(False, None, "edges recovered", None, risk.edge_freeze_threshold_bps,
                                        now - self.run_started_ms, after))

    # ---------------------------------------------------------------- steps
    def after_step(self, now_ms: int) -> None:
        """The end of a quoting step at ``now_ms``: call the step hooks (unless every one of them asked to be
        called later) and the journal hooks. :meth:`run` calls this itself; event-driven drivers call it."""
        if now_ms >= self._hooks_due_ms:
            self._call_step_hooks(now_ms)

    def _call_step_hooks(self, now_ms: int) -> None:
        # A step hook may return the time it next needs a call (an int): until the earliest of those, the loop
        # calls no step hook (a hook gets every call from its due time on). Journal hooks see every step.
        due = _NEVER
        for hook in self.step_hooks:
            when = hook(now_ms)
            if type(when) is not int:
                when = now_ms
            due = min(due, when)
        if self.journal_hooks:
            due = now_ms
            for journal in self.journal_hooks:
                journal.on_step(now_ms)
        self._hooks_due_ms = due

    # ---------------------------------------------------------------- the run
    def run_shadow(self, params: ExecutionParams, *, progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Run ``params.iterations`` steps of the synthetic market over every symbol; return the report.

        Each step: advance the clock by ``quote_interval_ms``, apply due fills, then per symbol: new quote,
        edge update (may freeze and cancel everything), quoting. The result is JSON-native (floats).
        """
        from mmexec.canonical import to_jsonable

        return to_jsonable(self.run(params, progress=progress), fragments=False)  # type: ignore[no-any-return]

    def run(self, params: ExecutionParams, *, progress: ProgressCallback | None = None,
            source: SteppedMarket | None = None, start_step: int = 0) -> dict[str, Any]:
        """Like :meth:`run_shadow` but the report keeps exact ``Decimal`` values; ``source`` replaces the
        synthetic market of ``params``. ``start_step`` > 0 continues a run restored after that many steps
        (pass its market as ``source``)."""
        if not start_step:
            self.run_started_ms = self.clock.now_ms()
            self.freezes_at_start = self.risk_monitor.freezes_total
            self.quotes_at_start = self.stats.quotes
        self._unfreeze_after_ms = params.unfreeze_after_ms
        market = source if source is not None else params.make_market()
        self.market = market
        books = [self._book(symbol, params) for symbol in params.symbols]
        self._sync_grids()
        steps = [(book, book.symbol, market.walk(book.symbol)) for book in books]
        advance = self.clock.advance
        interval = params.quote_interval_ms
        risk = self.risk_monitor
        threshold = risk.edge_freeze_threshold_bps
        # Fast float guard band around the exact Decimal threshold; the exact comparison decides inside it.
        near = float(threshold) + 1e-6
        tick_venue = self._ticks
        # due fills, without on_fill's own due check (done here): the integer path directly when there is one
        on_fill = self.on_fill if tick_venue is None else partial(self._apply_tick_fills, tick_venue)
        on_edge = self.on_edge_update
        latest_edges = risk.latest_edges
        quote = self._quote
        step_hooks = self.step_hooks
        journal_hooks = self.journal_hooks
        after = params.unfreeze_after_ms
        every = max(1, params.iterations // 100)
        next_due = self._next_fill_ms
        for i in range(start_step, params.iterations):
            now = advance(interval)
            if next_due is None or ((due := next_due()) is not None and due <= now):
                on_fill()
            if self._frozen_at_ms is not None:
                self._maybe_unfreeze(after)
            for book, symbol, step in steps:
                bid, ask, edge = step()
                latest_edges[symbol] = edge
                if edge < near:
                    on_edge(symbol, edge)
                quote(book, bid, ask, now)
            if (step_hooks or journal_hooks) and now >= self._hooks_due_ms:
                self._call_step_hooks(now)
            if progress is not None and (i + 1) % every == 0:
                progress(i + 1, params.iterations)
        self.on_fill()  # fills the venue executed by now (e.g. before a cancel it answered) belong to this run
        self.stats.quotes += params.iterations * len(steps)
        self.stats.iterations += params.iterations
        return build_core_report(self, params)
