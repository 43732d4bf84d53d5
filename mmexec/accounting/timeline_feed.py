"""Feeds a :class:`~mmexec.accounting.timeline.TimelineRecorder` from today's execution loop.

:class:`LoopTimeline` is a step listener of :class:`~mmexec.engine.loop.ExecutionLoop` (called once per step
with the clock's time) and a fill listener. Per step it costs two integer comparisons for the freeze counters
and one for the sampling clock; the state view (books, orders, PnL, fees) is read only when a sample is due.
Freezes and unfreezes are noticed through the risk monitor's counters at the end of the step they happen in
(the virtual clock does not move within a step, so their times are exact).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mmexec.accounting.timeline import DEFAULT_MAX_SAMPLES, SymbolState, TimelineRecorder, default_sample_ms

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mmexec.engine.loop import ExecutionLoop
    from mmexec.fees.ledger import FeeLedger
    from mmexec.pnl import PnlTracker

_ZERO = Decimal(0)


class LoopTimeline:
    """Samples an :class:`ExecutionLoop`'s state into a recorder; adds the ``timeline`` report section."""

    __slots__ = ("_freezes", "_ledger", "_loop", "_pnl", "_unfreezes", "recorder")

    def __init__(self, loop: ExecutionLoop, ledger: FeeLedger, pnl: PnlTracker, recorder: TimelineRecorder) -> None:
        self._loop = loop
        self._ledger = ledger
        self._pnl = pnl
        self.recorder = recorder
        self._freezes = loop.risk_monitor.freezes_total
        self._unfreezes = loop.risk_monitor.unfreezes_total

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
        risk = self._loop.risk_monitor
        if risk.freezes_total != self._freezes or risk.unfreezes_total != self._unfreezes:
            self._note_freezes(now_ms)
        recorder = self.recorder
        t_ms = now_ms - recorder.origin_ms
        if t_ms >= recorder.next_due_ms:
            recorder.sample(t_ms, self.states())

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

    def states(self) -> dict[str, SymbolState]:
        """A read-only view of every symbol's state now (exact Decimals)."""
        loop = self._loop
        books = loop._books
        open_orders: dict[str, int] = {}
        for order in loop.order_store.get_open_orders():
            open_orders[order.symbol] = open_orders.get(order.symbol, 0) + 1
        mids: dict[str, Decimal] = {}
        for symbol in self.recorder.symbols:
            book = books.get(symbol)
            mid = book.last_mid if book is not None else None
            if mid is not None:
                mids[symbol] = mid
        pnl = self._pnl.section(mids, self._ledger.fees_by_symbol(), self._ledger.rebates_by_symbol())["by_symbol"]
        states: dict[str, SymbolState] = {}
        for symbol in self.recorder.symbols:
            book = books.get(symbol)
            money: dict[str, Any] = pnl.get(symbol) or {}
            best_bid = best_ask = our_bid = our_ask = None
            if book is not None and (book.last_bid_ticks or book.last_ask_ticks):
                tick = book.inst.tick_size
                best_bid, best_ask = book.last_bid_ticks * tick, book.last_ask_ticks * tick
                our_bid = book.bid.price if book.bid is not None else None
                our_ask = book.ask.price if book.ask is not None else None
            states[symbol] = SymbolState(
                mid=mids.get(symbol), best_bid=best_bid, best_ask=best_ask, our_bid=our_bid, our_ask=our_ask,
                position=money.get("position", _ZERO), realized=money.get("realized", _ZERO),
                unrealized=money.get("unrealized", _ZERO), net=money.get("net", _ZERO),
                fees=money.get("fees", _ZERO), rebates=money.get("rebates", _ZERO),
                open_orders=open_orders.get(symbol, 0),
            )
        return states

    def add_section(self, report: dict[str, Any]) -> None:
        """Session section hook: record the end-of-run state, then add ``timeline`` to ``report``."""
        recorder = self.recorder
        self._note_freezes(self._loop.clock.now_ms())
        recorder.finish(self._loop.clock.now_ms() - recorder.origin_ms, self.states())
        report["timeline"] = recorder.section()
