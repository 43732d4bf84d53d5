"""Feeds a :class:`~mmexec.accounting.timeline.TimelineRecorder` from today's execution loop.

:class:`LoopTimeline` is a step listener of :class:`~mmexec.engine.loop.ExecutionLoop` (called once per step
with the clock's time) and a fill listener. Per step it costs two integer comparisons for the freeze counters
and one for the sampling clock. When a sample is due it captures references to the (immutable) values of the
books, orders, PnL and fees; the series' Decimals are computed when the section is built, after the run. It
reads the loop's, the PnL tracker's and the fee ledger's internals (read only), as the core report does.
Freezes and unfreezes are noticed through the risk monitor's counters at the end of the step they happen in
(the virtual clock does not move within a step, so their times are exact).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from mmexec.accounting.timeline import DEFAULT_MAX_SAMPLES, TimelineRecorder, default_sample_ms
from mmexec.engine.models import OrderState
from mmexec.fees.calc import FEE_CONTEXT, bps_of
from mmexec.pnl import PNL_CONTEXT, net_pnl

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mmexec.engine.loop import ExecutionLoop
    from mmexec.fees.ledger import FeeLedger
    from mmexec.fees.schedule import FeeSchedule
    from mmexec.pnl import PnlTracker

_ZERO = Decimal(0)
_PENDING = OrderState.PENDING


class LoopTimeline:
    """Samples an :class:`ExecutionLoop`'s state into a recorder; adds the ``timeline`` report section."""

    __slots__ = ("_due_at", "_freezes", "_ledger", "_loop", "_pnl", "_risk", "_unfreezes", "recorder")

    def __init__(self, loop: ExecutionLoop, ledger: FeeLedger, pnl: PnlTracker, recorder: TimelineRecorder) -> None:
        self._loop = loop
        self._ledger = ledger
        self._pnl = pnl
        self.recorder = recorder
        self._risk = loop.risk_monitor
        self._freezes = self._risk.freezes_total
        self._unfreezes = self._risk.unfreezes_total
        self._due_at = recorder.origin_ms + recorder.next_due_ms  # clock time of the next sample

    @classmethod
    def attach(cls, loop: ExecutionLoop, ledger: FeeLedger, pnl: PnlTracker, symbols: Sequence[str], *,
               step_ms: int, run_ms: int | None, sample_ms: int | None = None,
               max_samples: int | None = None) -> LoopTimeline:
        """Build a recorder (``sample_ms`` None: :func:`default_sample_ms`) and register with ``loop``."""
        recorder = TimelineRecorder(
            symbols, sample_ms=sample_ms or default_sample_ms(step_ms, run_ms),
            max_samples=max_samples or DEFAULT_MAX_SAMPLES, origin_ms=loop.clock.now_ms(),
        )
        feed = cls(loop, ledger, pnl, recorder)
        loop.fill_listeners.append(recorder.on_fill)
        loop.step_listeners.append(feed.on_step)
        return feed

    def on_step(self, now_ms: int) -> None:
        """Step listener (the hot path): three integer comparisons unless something is due."""
        risk = self._risk
        if risk.freezes_total != self._freezes or risk.unfreezes_total != self._unfreezes:
            self._note_freezes(now_ms)
        if now_ms >= self._due_at:
            recorder = self.recorder
            recorder.sample(now_ms - recorder.origin_ms, self.states())
            self._due_at = recorder.origin_ms + recorder.next_due_ms

    def _note_freezes(self, now_ms: int) -> None:
        """Unfreezes first: the loop lifts a freeze at the start of a step, before quoting can freeze again."""
        risk = self._loop.risk_monitor
        recorder = self.recorder
        t_ms = now_ms - recorder.origin_ms
        for _ in range(risk.unfreezes_total - self._unfreezes):
            recorder.on_unfreeze(t_ms)
        new = risk.freezes_total - self._freezes
        log = list(risk.freeze_log)[-new:] if new > 0 else []
        for event in log:
            stamp = event.timestamp_ms
            recorder.on_freeze(t_ms if stamp is None else stamp - recorder.origin_ms, event.symbol, event.reason)
        self._freezes, self._unfreezes = risk.freezes_total, risk.unfreezes_total

    def states(self) -> dict[str, LoopSnapshot]:
        """A read-only view of every symbol's state now. It captures references to immutable values only
        (ticks, Decimals); the Decimals of the series are computed when the section is built."""
        loop = self._loop
        books = loop._books
        pnl_books = self._pnl._books
        fee_totals = self._ledger._by_symbol
        open_orders: dict[str, int] = {}
        for order in loop.order_store._live.values():  # live = pending or active; pending only inside a step
            if order.state is not _PENDING:
                open_orders[order.symbol] = open_orders.get(order.symbol, 0) + 1
        states: dict[str, LoopSnapshot] = {}
        new = tuple.__new__
        for symbol in self.recorder.symbols:
            book: Any = books.get(symbol)
            if book is None or not (book.last_bid_ticks or book.last_ask_ticks):
                book = _NO_BOOK
            pnl: Any = pnl_books.get(symbol) or _NO_PNL
            fees: Any = fee_totals.get(symbol) or _NO_FEES
            bid, ask = book.bid, book.ask
            states[symbol] = new(LoopSnapshot, (
                book.last_bid_ticks, book.last_ask_ticks, book.inst.tick_size if book is not _NO_BOOK else None,
                None if bid is None else bid.price, None if ask is None else ask.price,
                pnl.qty, pnl.cost, pnl.realized, fees.maker_notional, fees.taker_notional, fees.schedule,
                open_orders.get(symbol, 0)))
        return states

    def add_section(self, report: dict[str, Any]) -> None:
        """Session section hook: record the end-of-run state, then add ``timeline`` to ``report``."""
        recorder = self.recorder
        self._note_freezes(self._loop.clock.now_ms())
        recorder.finish(self._loop.clock.now_ms() - recorder.origin_ms, self.states())
        report["timeline"] = recorder.section()


class _Fields(NamedTuple):
    bid_ticks: int
    ask_ticks: int
    tick: Decimal | None  # None: no quote seen yet
    bid_price: Decimal | None  # our resting orders
    ask_price: Decimal | None
    qty: Decimal
    cost: Decimal
    realized_pnl: Decimal
    maker_notional: Decimal
    taker_notional: Decimal
    schedule: FeeSchedule | None
    open_orders: int


class LoopSnapshot(_Fields):
    """One symbol's state at a sample, captured as references (a :class:`~mmexec.accounting.timeline.StateView`).

    Prices, PnL, fees and rebates are computed on reading, with the same exact arithmetic as the report's
    ``positions``, ``pnl`` and ``fees`` sections, so the last sample equals the report's totals to the digit.
    A named tuple: building one per symbol and sample is the cheapest capture there is.
    """

    __slots__ = ()

    @property
    def mid(self) -> Decimal | None:
        tick = self.tick
        return None if tick is None else (self.bid_ticks + self.ask_ticks) * tick / 2

    @property
    def best_bid(self) -> Decimal | None:
        return None if self.tick is None else self.bid_ticks * self.tick

    @property
    def best_ask(self) -> Decimal | None:
        return None if self.tick is None else self.ask_ticks * self.tick

    @property
    def our_bid(self) -> Decimal | None:
        return None if self.tick is None else self.bid_price

    @property
    def our_ask(self) -> Decimal | None:
        return None if self.tick is None else self.ask_price

    @property
    def position(self) -> Decimal:
        return self.qty

    @property
    def realized(self) -> Decimal:
        return self.realized_pnl

    @property
    def unrealized(self) -> Decimal:
        mark = self.mid
        if mark is None:
            return _ZERO
        return PNL_CONTEXT.subtract(PNL_CONTEXT.multiply(self.qty, mark), self.cost)

    @property
    def fees(self) -> Decimal:
        schedule = self.schedule
        if schedule is None:
            return _ZERO
        return FEE_CONTEXT.add(bps_of(self.maker_notional, schedule.maker_bps),
                               bps_of(self.taker_notional, schedule.taker_bps))

    @property
    def rebates(self) -> Decimal:
        schedule = self.schedule
        return _ZERO if schedule is None else bps_of(self.maker_notional, schedule.maker_rebate_bps)

    @property
    def net(self) -> Decimal:
        return net_pnl(self.realized_pnl, self.unrealized, self.fees, self.rebates)


class _Empty:
    """Stands for a book, PnL or fee account that does not exist yet (all zero, nothing resting)."""

    last_bid_ticks = last_ask_ticks = 0
    bid = ask = schedule = None
    qty = cost = realized = maker_notional = taker_notional = _ZERO


_NO_BOOK = _NO_PNL = _NO_FEES = _Empty()
