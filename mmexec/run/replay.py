"""The replay driver: recorded market data -> books -> queue venue -> the execution loop.

:func:`open_source` checks a replay's inputs (files, formats, symbols, instruments) before any work starts;
:class:`ReplayMarket` is the replay's :class:`~mmexec.engine.ports.MarketSource` (one L2 book per symbol, and
an instrument per symbol once its book is tradable); :class:`ReplayDriver` runs it. All of them are wired by
:func:`mmexec.run.builder.build_run` (the same wiring as a synthetic run: fees, risk, quoting policy, loop).

Timeline: events are taken in order of effective receive time (see :mod:`mmexec.marketdata.feedclock`); the
loop's virtual clock is that time in ms. Every ``quote_interval_ms`` of it the loop quotes each tradable symbol
at the touch through :meth:`ExecutionLoop.quote` (the engine's :class:`~mmexec.engine.strategy.QuotingPolicy`
applies the offset and the inventory skew); fills and post-only rejects reach it when the clock passes their
delivery time. The venue matches each event at exchange time.

Market-data events (a book's sequence gap, resync or crossed touch) reach every callable in
:attr:`ReplayDriver.market_listeners` as ``(now_ms, kind, symbol)``: the loop's virtual time when the event
was received (the timeline marks them).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import ROUND_FLOOR, Decimal
from types import MappingProxyType
from typing import Any

from mmexec.accounting.markout import MarkoutTracker
from mmexec.engine.loop import ExecutionLoop
from mmexec.engine.market import Instrument
from mmexec.engine.params import ExecutionParams
from mmexec.engine.report import build_core_report
from mmexec.errors import ConfigError, InputError
from mmexec.exchanges.queue import QueueVenue
from mmexec.fees.calc import match_schedule
from mmexec.fees.resolve import FeeConfig
from mmexec.marketdata.book import OrderBook
from mmexec.marketdata.events import MarketEvent
from mmexec.marketdata.instruments import InstrumentSpec, load_bybit_instruments, parse_override
from mmexec.marketdata.merge import ReplaySource, open_captures
from mmexec.run.spec import RunSpec

log = logging.getLogger("mmexec.replay")
_DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT")
_NS_PER_MS = 1_000_000
MarketListener = Callable[[int, str, str], object]  # (virtual ms, kind, symbol)
CLOCK_NOTE = "local receive time, clamped to >= exchange time (strategy); exchange time (venue)"


def open_source(spec: RunSpec, config_sources: Mapping[str, str] | None = None) -> ReplaySource:
    """Check the replay's inputs (files, formats, symbols, instruments) before any work starts.

    ``symbols`` restricts the replay only when it was given (``config_sources``), or, without sources, when it
    differs from the default; otherwise the symbols are the ones in the data.
    """
    market = spec.market
    refuse_venue_options(spec)
    if config_sources is not None:
        given = config_sources.get("symbols", "default") != "default"
    else:
        given = bool(market.symbols) and tuple(market.symbols) != _DEFAULT_SYMBOLS
    overrides, from_file = instrument_sources(spec)
    return open_captures(list(market.data), data_format=market.data_format,
                         symbols=list(market.symbols) if given else None, overrides=overrides, from_file=from_file)


def refuse_venue_options(spec: RunSpec) -> None:
    """Recorded (and live) market data is matched on the queue venue, by the queue model: nothing else applies."""
    if spec.venue.exchange != "fake":
        raise ConfigError("replay matches orders on its own queue venue; --exchange does not apply",
                          source="--exchange")
    if spec.venue.fill_model == "probabilistic":
        raise ConfigError("the probabilistic fill model is for synthetic runs; replay fills by the queue model",
                          source="--fill-model")


def instrument_sources(spec: RunSpec) -> tuple[dict[str, InstrumentSpec], dict[str, InstrumentSpec]]:
    """The ``--instrument`` overrides and the ``--instruments-file`` entries of ``spec``."""
    overrides: dict[str, InstrumentSpec] = {}
    for symbol, grid in spec.market.instrument.items():
        parsed = parse_override(f"{symbol}={grid}")
        overrides[parsed.symbol] = parsed
    from_file = load_bybit_instruments(spec.market.instruments_file) if spec.market.instruments_file else {}
    return overrides, from_file


def refuse_queue_model_without_data(spec: RunSpec) -> None:
    """The queue fill model matches against recorded data: a synthetic run cannot use it."""
    if spec.venue.fill_model == "queue":
        raise ConfigError("the queue fill model needs recorded market data: add --market replay --data FILE",
                          source="--fill-model")


class ReplayMarket:
    """The replay's market source: one L2 book per symbol, and the instruments quoted so far.

    An instrument appears when its book first becomes tradable: its reference price is that touch mid and its
    quote size ``order_qty`` (whole lots) or ``order_notional`` worth of it.
    """

    def __init__(self, source: ReplaySource, order_qty: Decimal | None, order_notional: Decimal) -> None:
        self.source = source
        self.symbols = list(source.symbols)
        self.books: dict[str, OrderBook] = {s: OrderBook(s) for s in self.symbols}
        self.specs: Mapping[str, InstrumentSpec] = source.instruments
        self.order_qty = order_qty
        self.order_notional = order_notional
        self._instruments: dict[str, Instrument] = {}
        # The first event is read now: the run's clock starts at its receive time (and a file that breaks on
        # its first message fails before anything runs).
        events = source.events()
        first = next(events, None)
        self.start_ms = 0 if first is None else first.local_ns // _NS_PER_MS
        self.consumed = 0  # events handed out so far: the stream's position in a journal checkpoint
        self._events: Iterator[MarketEvent] | None = self._counted(
            events if first is None else itertools.chain((first,), events))

    def events(self) -> Iterator[MarketEvent]:
        """The replay's events in receive-time order (once: they are streamed from the files)."""
        if self._events is None:
            raise RuntimeError("a restored replay market must be reopened before it is replayed")
        return self._events

    def _counted(self, events: Iterator[MarketEvent]) -> Iterator[MarketEvent]:
        for ev in events:
            self.consumed += 1
            yield ev

    # ---------------------------------------------------------------- journal checkpoints
    def __getstate__(self) -> dict[str, object]:
        """Everything but the open event stream (files, decompressors, parsers): its position is ``consumed``."""
        state = dict(self.__dict__)
        state["_events"] = None
        return state

    def reopen(self) -> None:
        """After a restore: reopen the files (checked unchanged) and skip the ``consumed`` events already
        replayed. The files are decompressed and parsed again up to there, so every per-file state (receive
        clocks, message counts, line numbers) is the uninterrupted run's, and a checkpoint stores no buffer."""
        events = self.source.reopen()
        skipped = sum(1 for _ in itertools.islice(events, self.consumed))
        if skipped != self.consumed:
            raise InputError(f"the capture ends after {skipped} events; the journal replayed {self.consumed}",
                             source=", ".join(stats.path.name for stats in self.source.files))
        self._events = self._counted(events)

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return MappingProxyType(self._instruments)

    def grids(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {s: (self.specs[s].tick_size, self.specs[s].lot_size) for s in self.symbols}

    def tick_sizes(self) -> dict[str, Decimal]:
        return {s: self.specs[s].tick_size for s in self.symbols}

    def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol`` (created at its book's current touch the first time)."""
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = self._instruments[symbol] = self._new_instrument(symbol)
        return inst

    def _new_instrument(self, symbol: str) -> Instrument:
        book, spec = self.books[symbol], self.specs[symbol]
        tick, lot = spec.tick_size, spec.lot_size
        ref = ((book.bid + book.ask) * tick / 2).quantize(tick)
        if self.order_qty is not None:
            qty = self.order_qty
            if qty % lot:
                raise ConfigError(f"order quantity {qty} of {symbol} is not a multiple of its lot {lot}",
                                  source="--order-qty")
        else:
            qty = max((self.order_notional / ref / lot).to_integral_value(ROUND_FLOOR), Decimal(1)) * lot
        return Instrument(symbol=symbol, ref_price=ref, tick_size=tick, lot_size=lot, order_qty=qty)

    def last_mids(self) -> dict[str, Decimal | None]:
        """The market's last touch mid per symbol (``None`` for a book that never had a touch)."""
        out: dict[str, Decimal | None] = {}
        for symbol, book in self.books.items():
            mid2 = book.mid2()
            out[symbol] = mid2 * self.specs[symbol].tick_size / 2 if mid2 else None
        return out


def maker_fee_bps(fee_config: FeeConfig, symbols: Iterable[str]) -> dict[str, Decimal]:
    """Net maker fee per symbol, bps (fee minus rebate): what a markout is net of."""
    out = {}
    for symbol in symbols:
        schedule = match_schedule(symbol, fee_config.fee_schedule, fee_config.profile_map)[0]
        out[symbol] = schedule.maker_bps - schedule.maker_rebate_bps
    return out


class ReplayDriver:
    """Feeds the recorded events to the venue and drives the loop on their receive time (module docstring)."""

    def __init__(self, spec: RunSpec, market: ReplayMarket, venue: QueueVenue, loop: ExecutionLoop,
                 markout: MarkoutTracker) -> None:
        self.spec = spec
        self.market = market
        self.venue = venue
        self.loop = loop
        self.markout = markout
        self.events_processed = 0
        self.first_local_ms: int | None = None
        self.last_local_ms: int | None = None
        self.first_exch_ms: int | None = None
        self.last_exch_ms: int | None = None
        # where run() is (for a journal checkpoint): events applied, the next quoting time, the event in hand
        self._count = 0
        self._next_quote = -1
        self._held: MarketEvent | None = None
        self.market_listeners: list[MarketListener] = []
        for book in market.books.values():
            book.on_event = self.on_book_event
        loop.use_source(market, requote_bps=spec.strategy.requote_bps)

    def on_book_event(self, kind: str, symbol: str, exch_ms: int) -> None:
        """A book's gap, resync or crossed touch, passed on at the virtual time it was received (a public
        method: a journal checkpoint stores bound methods by public name)."""
        now = self.loop.clock.now_ms()
        for listener in self.market_listeners:
            listener(now, kind, symbol)

    # ---------------------------------------------------------------- the run
    def run(self, events: Iterable[MarketEvent] | None = None) -> int:
        """Replay ``events`` (default: the source's files, parsed as they are replayed); returns their count."""
        self.consume(self.market.events() if events is None else events)
        return self.finish()

    def consume(self, events: Iterable[MarketEvent]) -> None:
        """Feed ``events`` (the next ones of the run, in receive-time order); a live market calls this as its
        messages arrive, a replay once with all of them."""
        loop, venue, market, markout = self.loop, self.venue, self.market, self.markout
        clock = loop.clock
        books = market.books
        interval = self.spec.market.quote_interval_ms
        on_market = venue.on_market
        advance_markout = markout.advance
        next_due = markout.next_due
        respond = self._respond
        next_quote, count = self._next_quote, self._count
        ev = self._held
        if ev is not None:  # resumed from a checkpoint taken while quoting, before this event was applied
            self._held = None
            clock.advance_to(ev.local_ns // _NS_PER_MS)
            respond()
            self._apply(ev)
            count += 1
        for ev in events:
            now = ev.local_ns // _NS_PER_MS
            if count == 0:
                clock.advance_to(now)
                loop.run_started_ms = now
                self.first_local_ms, self.first_exch_ms = now, ev.exch_ms
                next_quote = now - now % interval + interval
            elif now > clock.now_ms():
                if now >= next_quote:
                    clock.advance_to(next_quote)
                    respond()
                    next_quote = now - now % interval + interval
                    # what a journal checkpoint (taken in the quoting step's hooks) needs to continue here
                    self._count, self._next_quote, self._held = count, next_quote, ev
                    self._quote_all()
                    self._held = None
                clock.advance_to(now)
                respond()
            if ev.exch_ms > next_due[ev.symbol]:
                advance_markout(ev.symbol, ev.exch_ms, books[ev.symbol].mid2())
            on_market(ev)
            count += 1
        if ev is not None:
            self.last_local_ms, self.last_exch_ms = ev.local_ns // _NS_PER_MS, ev.exch_ms
        self._next_quote = next_quote
        self.events_processed = self._count = count

    def finish(self) -> int:
        """The run ends at its last event: everything in flight reaches the strategy, then every simulated
        order still resting is canceled (a replay and a live session stop alike: nothing is left on the
        venue); returns the event count."""
        clock, venue = self.loop.clock, self.venue
        clock.advance_to(max(clock.now_ms(), venue.last_due_ms()))
        self._respond()
        self.loop.cancel_all()
        self._check_quotable()
        return self.events_processed

    def _apply(self, ev: MarketEvent) -> None:
        """One event to the markout and the venue (:meth:`run` inlines it)."""
        if ev.exch_ms > self.markout.next_due[ev.symbol]:
            self.markout.advance(ev.symbol, ev.exch_ms, self.market.books[ev.symbol].mid2())
        self.venue.on_market(ev)

    def _respond(self) -> None:
        """Deliver the fills and post-only rejects that have reached the strategy by now."""
        loop = self.loop
        loop.on_fill()
        due = self.venue.next_reject_ms()
        if due is not None and due <= loop.clock.now_ms():
            for coid in self.venue.take_rejects():
                loop.on_order_rejected(coid, self.venue.reject_reason)

    def _quote_all(self) -> None:
        """One quoting step: every tradable symbol at its touch, then the loop's step and journal hooks."""
        loop, market = self.loop, self.market
        for symbol, book in market.books.items():
            if not book.tradable:
                continue
            if symbol not in market.instruments:
                loop.add_instruments({symbol: market.instrument(symbol)})
            loop.quote(symbol, book.bid, book.ask)
        if loop.step_hooks or loop.journal_hooks:
            loop.after_step(loop.clock.now_ms())

    def _check_quotable(self) -> None:
        for symbol, book in self.market.books.items():
            if book.snapshots:
                continue
            if not book.bid and not book.ask and book.top_exch_ms < 0:
                raise InputError(f"no depth snapshot and no best bid/offer stream for {symbol}: nothing to quote from",
                                 source=", ".join(f.path.name for f in self.market.source.files))
            log.warning("no depth snapshot: the book was built from diffs and the best bid/offer stream",
                        extra={"symbol": symbol})

    # ---------------------------------------------------------------- report parts
    def params(self, utc: str | None) -> ExecutionParams:
        spec = self.spec
        return ExecutionParams(
            symbols=list(self.market.symbols), iterations=self.events_processed,
            quote_interval_ms=spec.market.quote_interval_ms,
            requote_bps=spec.strategy.requote_bps, utc=utc)

    def core_sections(self, utc: str | None) -> dict[str, Any]:
        """The engine's core sections, with market events counted and positions valued at the market's last
        touch mid (the loop only knows the touch of its own last quote)."""
        report = build_core_report(self.loop, self.params(utc))
        report["execution"]["market_events"] = report["execution"].pop("iterations")
        positions = report["positions"]
        marks = self.marks()
        last_mid: dict[str, Decimal] = {}
        net: dict[str, Decimal] = {}
        for symbol, qty in positions["by_symbol"].items():
            mark = marks.get(symbol) or positions["last_mid"].get(symbol)
            if mark is not None:
                last_mid[symbol] = mark
            net[symbol] = qty * mark if mark is not None else Decimal(0)
        positions["last_mid"] = last_mid
        positions["net_pos_usd"] = net
        positions["total_notional_usd"] = sum((abs(v) for v in net.values()), Decimal(0))
        return report

    def marks(self) -> dict[str, Decimal]:
        """Prices positions are valued at: the market's last touch mid, else the loop's last quoted mid."""
        quoted = self.loop.last_mids(self.market.symbols)
        out: dict[str, Decimal] = {}
        for symbol, mid in self.market.last_mids().items():
            mark = mid if mid is not None else quoted.get(symbol)
            if mark is not None:
                out[symbol] = mark
        return out

    def market_section(self) -> dict[str, Any]:
        source, books = self.market.source, self.market.books
        messages: dict[str, int] = {}
        for stats in source.files:
            for kind, n in stats.messages.items():
                messages[kind] = messages.get(kind, 0) + n
        specs = self.market.specs
        return {
            "kind": "replay",
            "venue": source.venue,
            "files": [stats.section() for stats in source.files],
            "symbols": {s: {"tick_size": specs[s].tick_size, "lot_size": specs[s].lot_size,
                            "instrument_source": specs[s].source} for s in source.symbols},
            "messages": dict(sorted(messages.items())),
            "torn_lines": sum(stats.torn_lines for stats in source.files),
            "clock": CLOCK_NOTE,
            "first_exch_ms": self.first_exch_ms,
            "last_exch_ms": self.last_exch_ms,
            "first_local_ms": self.first_local_ms,
            "last_local_ms": self.last_local_ms,
            "snapshots": sum(b.snapshots for b in books.values()),
            "gaps": sum(b.gaps for b in books.values()),
            "resyncs": sum(b.resyncs for b in books.values()),
            "crossed_book_events": sum(b.crossed_events for b in books.values()),
            "books_without_snapshot": sum(1 for b in books.values() if not b.snapshots),
            "books": {s: {"state": b.state, "snapshots": b.snapshots, "gaps": b.gaps, "resyncs": b.resyncs,
                          "crossed_book_events": b.crossed_events} for s, b in books.items()},
            "feed_latency_ms": source.latency(),
        }


__all__ = ["MarketListener", "ReplayDriver", "ReplayMarket", "instrument_sources", "maker_fee_bps", "open_source",
           "refuse_queue_model_without_data", "refuse_venue_options"]
