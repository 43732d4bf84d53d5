"""The replay driver: recorded market data -> book -> queue venue -> the execution loop -> the report.

Timeline: events are taken in order of effective receive time (see :mod:`mmexec.marketdata.feedclock`); the
loop's virtual clock is that time in ms. Every ``quote_interval_ms`` of it the strategy quotes each tradable
symbol at the touch (``quote_offset_ticks`` behind it, shifted by the inventory skew); fills and post-only
rejects reach it when the clock passes their delivery time. The venue matches each event at exchange time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from mmexec.accounting.markout import MarkoutTracker
from mmexec.engine.clock import VirtualClock
from mmexec.engine.loop import ExecutionLoop, ExecutionParams, FillListener
from mmexec.engine.market import Instrument
from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.report import build_core_report
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.errors import ConfigError, InputError
from mmexec.exchanges.queue import QueueVenue
from mmexec.fees.calc import match_schedule
from mmexec.fees.resolve import resolve_fee_config
from mmexec.marketdata.book import OrderBook
from mmexec.marketdata.events import MarketEvent
from mmexec.marketdata.instruments import InstrumentSpec, load_bybit_instruments, parse_override
from mmexec.marketdata.merge import ReplaySource, open_captures
from mmexec.pnl import PnlTracker
from mmexec.recon import reconcile

log = logging.getLogger("mmexec.replay")
_DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT")
_NS_PER_MS = 1_000_000
_BPS = Decimal(10_000)


def open_source(config: Any, config_sources: Mapping[str, str] | None) -> ReplaySource:
    """Check the replay's inputs (files, formats, symbols, instruments) before any work starts."""
    if config.exchange != "fake":
        raise ConfigError("replay matches orders on its own queue venue; --exchange does not apply",
                          source="--exchange")
    if config.fill_model == "probabilistic":
        raise ConfigError("the probabilistic fill model is for synthetic runs; replay fills by the queue model",
                          source="--fill-model")
    given = config_sources.get("symbols", "default") != "default" if config_sources is not None else \
        tuple(config.symbols) != _DEFAULT_SYMBOLS
    overrides: dict[str, InstrumentSpec] = {}
    for symbol, grid in config.instrument.items():
        spec = parse_override(f"{symbol}={grid}")
        overrides[spec.symbol] = spec
    from_file = load_bybit_instruments(config.instruments_file) if config.instruments_file else {}
    return open_captures(list(config.data), data_format=config.data_format,
                         symbols=list(config.symbols) if given else None, overrides=overrides, from_file=from_file)


def replay_config_section(config: Any, out: dict[str, Any]) -> dict[str, Any]:
    """The ``config`` section of a replay: the replay keys, without the synthetic venue's."""
    for key in ("fill_rate", "reject_rate", "partial_fill_rate", "iterations", "seed", "ref_price", "exchange"):
        out.pop(key, None)
    out["data"] = [p.name for p in config.data]
    out["instruments_file"] = config.instruments_file.name if config.instruments_file else None
    out["instrument"] = dict(sorted(config.instrument.items()))
    out["fill_model"] = "queue"
    return out


class _Quoter:
    """Quote prices from the touch: ``quote_offset_ticks`` behind it, shifted against the position by up to
    ``skew_bps`` (at a position worth ``max_inv``), never crossing the touch."""

    __slots__ = ("max_inv", "offset", "risk", "skew")

    def __init__(self, offset: int, skew_bps: Decimal, max_inv: Decimal, risk: RuntimeRiskMonitor) -> None:
        self.offset = offset
        self.skew = skew_bps
        self.max_inv = max_inv
        self.risk = risk

    def prices(self, symbol: str, bid: int, ask: int, tick: Decimal) -> tuple[int, int]:
        qb, qa = bid - self.offset, ask + self.offset
        if self.skew and self.max_inv:
            pos = self.risk.get_positions().get(symbol)
            if pos:
                mid = (bid + ask) * tick / 2
                share = max(Decimal(-1), min(Decimal(1), pos * mid / self.max_inv))
                shift = int((self.skew * share * mid / _BPS / tick).to_integral_value(ROUND_HALF_EVEN))
                qb, qa = min(qb - shift, ask - 1), max(qa - shift, bid + 1)
        return qb, qa


def run_replay(config: Any, *, utc: str, fill_listeners: Sequence[FillListener] = (),
               config_sources: Mapping[str, str] | None = None, record_fills: bool = False,
               source: ReplaySource | None = None, events: Iterable[MarketEvent] | None = None) -> dict[str, Any]:
    """Replay ``config.data`` and return the report (exact ``Decimal`` values).

    ``source`` / ``events``: an already opened source and its already parsed events (the benchmark times
    parsing and the engine apart this way); by default the files are opened and parsed as they are replayed.
    """
    fee_config = resolve_fee_config(
        config.fee_tier, config.fee_profiles, config.fee_maker_bps, config.fee_taker_bps, config.rebate_maker_bps,
        sources=config_sources,
    )
    source = source or open_source(config, config_sources)
    symbols = source.symbols
    specs = source.instruments
    books = {s: OrderBook(s) for s in symbols}
    clock = VirtualClock(0)
    venue = QueueVenue(books, {s: (specs[s].tick_size, specs[s].lot_size) for s in symbols}, clock=clock,
                       latency_ms=config.latency_ms, response_latency_ms=config.response_latency_ms,
                       queue_model=config.queue_model, record_fills=record_fills)
    store = InMemoryOrderStore()
    risk = RuntimeRiskMonitor(config.max_inv, config.max_total, config.edge_threshold)
    loop = ExecutionLoop(venue, store, risk, clock=clock)
    loop.requote_bps = config.requote_bps
    ledger = fee_config.ledger()
    pnl = PnlTracker()
    loop.fill_listeners.extend([ledger.record, pnl.on_fill, *fill_listeners])
    fee_bps = {}
    for s in symbols:
        schedule = match_schedule(s, fee_config.fee_schedule, fee_config.profile_map)[0]
        fee_bps[s] = schedule.maker_bps - schedule.maker_rebate_bps
    markout = MarkoutTracker(symbols, {s: specs[s].tick_size for s in symbols}, fee_bps,
                             markout_ms=config.markout_ms, edge_window=config.edge_window,
                             on_edge=loop.on_edge_update)
    venue.execution_listeners.append(markout.on_execution)
    quoter = _Quoter(config.quote_offset_ticks, config.skew_bps, config.max_inv, risk)
    count = _drive(config, source, source.events() if events is None else events, books, venue, loop, markout,
                   quoter)
    _check_quotable(source, books)
    params = ExecutionParams(symbols=list(symbols), iterations=count, max_inventory_usd_per_symbol=config.max_inv,
                             max_total_notional_usd=config.max_total, edge_freeze_threshold_bps=config.edge_threshold,
                             quote_interval_ms=config.quote_interval_ms, requote_bps=config.requote_bps, utc=utc)
    report = build_core_report(loop, params)
    report["execution"]["market_events"] = report["execution"].pop("iterations")
    _mark_at_market(report["positions"], books, specs)
    report["config"] = config.report_section()
    report["config"]["symbols"] = list(symbols)
    report["fees"] = ledger.section()
    report["pnl"] = pnl.section(report["positions"]["last_mid"], ledger.fees_by_symbol(), ledger.rebates_by_symbol())
    report["recon"] = reconcile(store, venue, fee_ledger=ledger, fee_schedule=fee_config.fee_schedule,
                                profile_map=fee_config.profile_map).to_dict()
    report["market"] = _market_section(source, books)
    report["markout"] = markout.section()
    report["queue"] = venue.queue_section()
    if record_fills:
        report["_fill_log"] = venue.fill_log
    return report


def _drive(config: Any, source: ReplaySource, events: Iterable[MarketEvent], books: dict[str, OrderBook],
           venue: QueueVenue,
           loop: ExecutionLoop, markout: MarkoutTracker, quoter: _Quoter) -> int:
    """The event loop; returns how many market events were processed."""
    clock = loop.clock
    interval = config.quote_interval_ms
    ticks = {s: spec.tick_size for s, spec in source.instruments.items()}
    order_qty = config.order_qty
    on_fill = loop.on_fill
    on_market = venue.on_market
    advance_markout = markout.advance
    next_due = markout.next_due
    next_quote = -1
    count = 0
    first = True

    def respond() -> None:
        on_fill()
        if venue._rejects:
            for coid in venue.take_rejects():
                loop.on_order_rejected(coid)

    def quote_all() -> None:
        for symbol, book in books.items():
            if not book.tradable:
                continue
            if symbol not in loop.instruments:
                loop.instruments[symbol] = _instrument(symbol, book, source.instruments[symbol], order_qty,
                                                       config.order_notional)
            bid, ask = quoter.prices(symbol, book.bid, book.ask, ticks[symbol])
            loop.quote(symbol, bid, ask)

    for ev in events:
        now = ev.local_ns // _NS_PER_MS
        if first:
            first = False
            clock.advance_to(now)
            loop.run_started_ms = now
            source.first_local_ms, source.first_exch_ms = now, ev.exch_ms
            next_quote = now - now % interval + interval
        elif now > clock._now_ms:
            if now >= next_quote:
                clock.advance_to(next_quote)
                respond()
                quote_all()
                next_quote = now - now % interval + interval
            clock.advance_to(now)
            respond()
        if ev.exch_ms > next_due[ev.symbol]:
            advance_markout(ev.symbol, ev.exch_ms, books[ev.symbol].mid2())
        on_market(ev)
        count += 1
    if count:
        source.last_local_ms, source.last_exch_ms = ev.local_ns // _NS_PER_MS, ev.exch_ms
    # let everything in flight reach the strategy
    end = max(clock._now_ms, venue.last_due_ms())
    clock.advance_to(end)
    respond()
    return count


def _mark_at_market(positions: dict[str, Any], books: Mapping[str, OrderBook],
                    specs: Mapping[str, InstrumentSpec]) -> None:
    """Value positions at the market's last touch mid (the loop knows only the mid of its own last quote)."""
    last_mid: dict[str, Decimal] = {}
    net: dict[str, Decimal] = {}
    for symbol, qty in positions["by_symbol"].items():
        mid2 = books[symbol].mid2()
        if mid2:
            last_mid[symbol] = mid2 * specs[symbol].tick_size / 2
        elif symbol in positions["last_mid"]:
            last_mid[symbol] = positions["last_mid"][symbol]
        net[symbol] = qty * last_mid[symbol] if symbol in last_mid else Decimal(0)
    positions["last_mid"] = last_mid
    positions["net_pos_usd"] = net
    positions["total_notional_usd"] = sum((abs(v) for v in net.values()), Decimal(0))


def _instrument(symbol: str, book: OrderBook, spec: InstrumentSpec, order_qty: Decimal | None,
                order_notional: Decimal) -> Instrument:
    tick, lot = spec.tick_size, spec.lot_size
    ref = ((book.bid + book.ask) * tick / 2).quantize(tick)
    if order_qty is not None:
        qty = order_qty
        if qty % lot:
            raise ConfigError(f"order quantity {qty} of {symbol} is not a multiple of its lot {lot}",
                              source="--order-qty")
    else:
        qty = max((order_notional / ref / lot).to_integral_value(ROUND_FLOOR), Decimal(1)) * lot
    return Instrument(symbol=symbol, ref_price=ref, tick_size=tick, lot_size=lot, order_qty=qty)


def _check_quotable(source: ReplaySource, books: dict[str, OrderBook]) -> None:
    for symbol, book in books.items():
        if book.snapshots:
            continue
        if not book.bid and not book.ask and book.top_exch_ms < 0:
            raise InputError(f"no depth snapshot and no best bid/offer stream for {symbol}: nothing to quote from",
                             source=", ".join(f.path.name for f in source.files))
        log.warning("no depth snapshot: the book was built from diffs and the best bid/offer stream",
                    extra={"symbol": symbol})


def _market_section(source: ReplaySource, books: dict[str, OrderBook]) -> dict[str, Any]:
    messages: dict[str, int] = {}
    for stats in source.files:
        for kind, n in stats.messages.items():
            messages[kind] = messages.get(kind, 0) + n
    return {
        "kind": "replay",
        "venue": source.venue,
        "files": [stats.section() for stats in source.files],
        "symbols": {s: {"tick_size": source.instruments[s].tick_size, "lot_size": source.instruments[s].lot_size,
                        "instrument_source": source.instruments[s].source} for s in source.symbols},
        "messages": dict(sorted(messages.items())),
        "torn_lines": sum(stats.torn_lines for stats in source.files),
        "clock": "local receive time, clamped to >= exchange time (strategy); exchange time (venue)",
        "first_exch_ms": source.first_exch_ms,
        "last_exch_ms": source.last_exch_ms,
        "first_local_ms": source.first_local_ms,
        "last_local_ms": source.last_local_ms,
        "snapshots": sum(b.snapshots for b in books.values()),
        "gaps": sum(b.gaps for b in books.values()),
        "resyncs": sum(b.resyncs for b in books.values()),
        "crossed_book_events": sum(b.crossed_events for b in books.values()),
        "books_without_snapshot": sum(1 for b in books.values() if not b.snapshots),
        "books": {s: {"state": b.state, "snapshots": b.snapshots, "gaps": b.gaps, "resyncs": b.resyncs,
                      "crossed_book_events": b.crossed_events} for s, b in books.items()},
        "feed_latency_ms": source.latency(),
    }
