"""Feeds a :class:`~mmexec.accounting.timeline.TimelineRecorder` from the execution loop, through its hooks.

:class:`LoopTimeline` registers with an :class:`~mmexec.engine.loop.ExecutionLoop` as a step hook (called once
per step with the virtual time), a fill listener and a risk listener (freezes and unfreezes, with their exact
virtual time). Per step it costs one integer comparison unless a sample is due; then it captures references to
the (immutable) values of the books, open orders, PnL and fees through their public read-only views
(:attr:`ExecutionLoop.books`, :meth:`InMemoryOrderStore.get_open_orders`, :meth:`PnlTracker.holding`,
:meth:`FeeLedger.totals`). The series' Decimals are computed when the section is built, after the run.
:meth:`LoopTimeline.on_market_event` takes market-data events (a replay driver's or live feed's gaps,
resyncs, crossed books, reconnects) at their virtual clock time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from mypy_extensions import mypyc_attr

from mmexec.accounting.pnl import net_pnl
from mmexec.accounting.timeline import DEFAULT_MAX_SAMPLES, TimelineRecorder, default_sample_ms
from mmexec.fees.calc import FEE_CONTEXT, bps_of
from mmexec.money import MONEY_CONTEXT

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mmexec.accounting.ledger import FeeLedger
    from mmexec.accounting.pnl import PnlTracker
    from mmexec.engine.loop import ExecutionLoop
    from mmexec.engine.ports import RiskNotice
    from mmexec.fees.schedule import FeeSchedule

_ZERO = Decimal(0)
_NO_TOUCH = (0, 0, None, None, None)  # no quote seen yet: no prices, nothing resting


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class LoopTimeline:
    """Samples an :class:`ExecutionLoop`'s state into a recorder; :meth:`section` is the ``timeline`` section."""

    __slots__ = ("_due_at", "_ledger", "_loop", "_pnl", "recorder")

    def __init__(self, loop: ExecutionLoop, ledger: FeeLedger, pnl: PnlTracker, recorder: TimelineRecorder) -> None:
        self._loop = loop
        self._ledger = ledger
        self._pnl = pnl
        self.recorder = recorder
        self._due_at = recorder.origin_ms + recorder.next_due_ms  # clock time of the next sample

    @classmethod
    def attach(cls, loop: ExecutionLoop, ledger: FeeLedger, pnl: PnlTracker, symbols: Sequence[str], *,
               step_ms: int, run_ms: int | None, sample_ms: int | None = None,
               max_samples: int | None = None) -> LoopTimeline:
        """Build a recorder (``sample_ms`` None: :func:`default_sample_ms`) and register with ``loop``'s hooks."""
        recorder = TimelineRecorder(
            symbols, sample_ms=sample_ms or default_sample_ms(step_ms, run_ms),
            max_samples=max_samples or DEFAULT_MAX_SAMPLES, origin_ms=loop.clock.now_ms(),
        )
        feed = cls(loop, ledger, pnl, recorder)
        loop.add_tick_listener(recorder)  # fills in integers (a FillEvent only for the fills it keeps)
        loop.step_hooks.append(feed.on_step)
        loop.risk_listeners.append(feed.on_risk)
        return feed

    def on_step(self, now_ms: int) -> int:
        """Step hook: a sample when one is due; returns the clock time of the next sample (the loop skips the
        calls before it)."""
        if now_ms >= self._due_at:
            recorder = self.recorder
            recorder.sample(now_ms - recorder.origin_ms, self.states())
            self._due_at = recorder.origin_ms + recorder.next_due_ms
        return self._due_at

    def on_risk(self, notice: RiskNotice) -> None:
        """Risk listener: a freeze or unfreeze at its virtual time (``at_ms`` counts from the loop's run start)."""
        recorder = self.recorder
        t_ms = notice.at_ms + self._loop.run_started_ms - recorder.origin_ms
        if notice.frozen:
            recorder.on_freeze(t_ms, notice.symbol or "", notice.reason)
        else:
            recorder.on_unfreeze(t_ms)

    def on_market_event(self, now_ms: int, kind: str, symbol: str | None = None) -> None:
        """Market listener: a ``gap`` / ``resync`` / ``crossed`` / ``reconnect`` at clock time ``now_ms``."""
        recorder = self.recorder
        recorder.on_market_event(now_ms - recorder.origin_ms, kind, symbol)

    def states(self) -> dict[str, LoopSnapshot]:
        """A read-only view of every symbol's state now. It captures references to immutable values only
        (ticks, Decimals); the Decimals of the series are computed when the section is built."""
        books = self._loop.books
        fee_totals = self._ledger.totals()
        holding = self._pnl.holding
        open_orders: dict[str, int] = {}
        for order in self._loop.order_store.get_open_orders():  # open or partially filled
            open_orders[order.symbol] = open_orders.get(order.symbol, 0) + 1
        states: dict[str, LoopSnapshot] = {}
        new = tuple.__new__
        for symbol in self.recorder.symbols:
            book = books.get(symbol)
            touch: tuple[int, int, Decimal | None, Decimal | None, Decimal | None] = _NO_TOUCH
            if book is not None and (book.last_bid_ticks or book.last_ask_ticks):
                bid, ask = book.bid, book.ask
                touch = (book.last_bid_ticks, book.last_ask_ticks, book.inst.tick_size,
                         None if bid is None else bid.price, None if ask is None else ask.price)
            fees = fee_totals.get(symbol)
            money = (_ZERO, _ZERO, None) if fees is None else (fees.maker_notional, fees.taker_notional,
                                                               fees.schedule)
            states[symbol] = new(LoopSnapshot, (*touch, *holding(symbol), *money, open_orders.get(symbol, 0)))
        return states

    def section(self) -> dict[str, Any]:
        """The report's ``timeline`` section, after recording the end-of-run state."""
        recorder = self.recorder
        recorder.finish(self._loop.clock.now_ms() - recorder.origin_ms, self.states())
        return recorder.section()


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


@mypyc_attr(native_class=False)  # compiled: a named tuple stays a Python class
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
        return self.bid_price

    @property
    def our_ask(self) -> Decimal | None:
        return self.ask_price

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
        return MONEY_CONTEXT.subtract(MONEY_CONTEXT.multiply(self.qty, mark), self.cost)

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
