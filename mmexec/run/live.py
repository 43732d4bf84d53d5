"""The live market (``--market bybit-live``): Bybit's public feed, traded exactly like a replay of its recording.

One code path: every data message the feed delivers is turned into the line a recording keeps
(``<recv_ns> <json>``) and parsed by the replay's own Bybit parser (:class:`~mmexec.marketdata.bybit.
BybitLineParser`), on the replay's feed clock; the events go to the replay driver (:class:`LiveDriver` is a
:class:`~mmexec.run.replay.ReplayDriver`), book, queue venue, markouts and report. A message is recorded (with
``--record``) only once it parsed, so the recording replays to the same events, and so to the same report --
except the fields that describe the source (README "Live market data").

The socket reader runs in the feed's asyncio task; :class:`LiveSession` consumes the feed's bounded queue in
batches (everything queued at once) and never sleeps: the engine's clock is each message's receive time. A
dropped message (queue overflow) or a ``u`` gap resubscribes the symbol for a fresh snapshot; a missing delta
leaves the book invalid (no quote, no fill) until then, in the live run and in the replay alike.

The run ends at the last message received: after ``--duration`` (or a signal) the feed stops, what is queued is
still consumed (and recorded), and the driver finishes as a replay does at the end of its file.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mmexec.errors import ConfigError, InputError
from mmexec.logs import log_event
from mmexec.marketdata.bybit import PARSE_ERRORS, BybitLineParser
from mmexec.marketdata.capture import FileStats
from mmexec.marketdata.events import BookDelta, MarketEvent
from mmexec.marketdata.feedclock import FeedClock, latency_summary
from mmexec.marketdata.instruments import Grid, InstrumentSpec, resolve_instruments
from mmexec.run.replay import ReplayDriver, instrument_sources, refuse_venue_options
from mmexec.run.spec import RunSpec

if TYPE_CHECKING:
    from mmexec.engine.order_store import InMemoryOrderStore
    from mmexec.engine.ports import FillListener, RiskListener
    from mmexec.marketdata.live.feed import BybitPublicFeed, FeedMessage
    from mmexec.marketdata.live.recorder import CaptureRecorder
    from mmexec.run.builder import Run

LOGGER = logging.getLogger("mmexec.live")
VENUE = "bybit"


def require_live_extra() -> None:
    try:
        import websockets  # noqa: F401
    except ImportError:
        raise ConfigError("the live market needs the 'live' extra: pip install 'mmexec[live]'",
                          source="--market bybit-live") from None


class SessionJournal(Protocol):
    """What a session asks of its journal (:class:`mmexec.run.live_journal.LiveJournal`)."""

    def order_store(self) -> InMemoryOrderStore: ...

    def attach(self, run: Run) -> None: ...

    def after_batch(self) -> None: ...


class LiveSource:
    """The live market's messages as capture lines, through the replay's Bybit parser (a ``ReplaySource`` for
    :class:`~mmexec.run.replay.ReplayMarket`: symbols, instruments, files, venue, events, latency)."""

    driver_class: type[ReplayDriver] = ReplayDriver  # LiveDriver, below

    def __init__(self, symbols: Sequence[str], instruments: Mapping[str, InstrumentSpec],
                 record: Path | None) -> None:
        self.symbols = list(symbols)
        self.instruments = dict(instruments)
        self.venue = VENUE
        self.stats = FileStats(record or Path("bybit-live"), VENUE)
        self.files: list[FileStats] = []  # the recording, once it is complete (what its replay reports)
        self.clock = FeedClock(self.stats.path)
        grids = {s: (Grid(spec.tick_size), Grid(spec.lot_size)) for s, spec in self.instruments.items()}
        self._parser = BybitLineParser(self.stats, grids, self.clock, frozenset(self.symbols))
        self.unparsable = 0
        self._first: list[MarketEvent] = []

    def parse(self, message: FeedMessage) -> list[MarketEvent] | None:
        """The events of ``message``, parsed from the very line a recording keeps; None when it does not parse
        (counted, logged, not recorded: a recording always replays)."""
        from mmexec.marketdata.live.recorder import one_line

        line = f"{message.recv_ns} {one_line(message.text)}".encode().strip()
        try:
            events = self._parser.events(self.stats.lines + 1, line)
        except (InputError, *PARSE_ERRORS) as exc:
            self.unparsable += 1
            if self.unparsable <= 10 or self.unparsable % 1000 == 0:
                log_event(LOGGER, logging.WARNING, "unparsable market data ignored", error=type(exc).__name__,
                          detail=str(exc)[:200], sample=message.text[:120], count=self.unparsable)
            return None
        self.stats.lines += 1
        return events

    def prime(self, events: list[MarketEvent]) -> None:
        """The first events: what :class:`ReplayMarket` reads to start the run's clock."""
        self._first = events

    def events(self) -> Any:
        return iter(self._first)

    def latency(self) -> dict[str, object]:
        return latency_summary([self.clock])

    def new_part(self, record: Path) -> None:
        """A resumed session records into a new file: from now on the messages are counted for it."""
        self.stats = FileStats(record, VENUE)
        self._parser.path, self._parser.counts = record, self.stats.messages


class LiveDriver(ReplayDriver):
    """The replay driver over live messages: the same loop; the report's ``market`` section adds ``live``."""

    live_section: Callable[[], dict[str, Any]] | None = None

    def _check_quotable(self) -> None:
        for symbol, book in self.market.books.items():
            if not book.snapshots:
                log_event(LOGGER, logging.WARNING, "no order book snapshot received", symbol=symbol)

    def market_section(self) -> dict[str, Any]:
        source = self.market.source
        assert isinstance(source, LiveSource)
        section = super().market_section()  # with the recording: its replay reads the same file, says the same
        if not source.files:  # no recording: no file to describe, the messages counted all the same
            section["messages"] = dict(sorted(source.stats.messages.items()))
        return {**section, "kind": "bybit-live", "live": self._live()}

    def _live(self) -> dict[str, Any]:
        return self.live_section() if self.live_section is not None else {}


LiveSource.driver_class = LiveDriver


class LiveSession:
    """One live shadow session: checks, the feed, the recording, the run (built at the first event)."""

    def __init__(self, spec: RunSpec, *, utc: str, config_sources: Mapping[str, str] | None = None,
                 fill_listeners: Sequence[FillListener] = (), risk_listeners: Sequence[RiskListener] = (),
                 feed: BybitPublicFeed | None = None) -> None:
        """Everything is checked here, before any connection: the extra, venue options, instruments, record."""
        from mmexec.marketdata.live.duration import parse_duration_ms
        from mmexec.marketdata.live.protocol import validate_symbols
        from mmexec.marketdata.live.recorder import check_output_path

        require_live_extra()
        refuse_venue_options(spec)
        live = spec.live
        symbols = validate_symbols(spec.market.symbols)
        overrides, from_file = instrument_sources(spec)
        instruments = resolve_instruments(VENUE, list(symbols), overrides, from_file)
        qty = spec.strategy.order_qty
        for symbol, grid in instruments.items():  # what a replay finds at its first quote, found before connecting
            if qty is not None and qty % grid.lot_size:
                raise ConfigError(f"order quantity {qty} of {symbol} is not a multiple of its lot {grid.lot_size}",
                                  source="--order-qty")
        record = check_output_path(live.record, source="--record") if live.record is not None else None
        self.spec = spec
        self.utc = utc
        self.config_sources = config_sources
        self.fill_listeners = fill_listeners
        self.risk_listeners = risk_listeners
        self.duration_ms = parse_duration_ms(live.duration) if live.duration else None
        self.source = LiveSource(symbols, instruments, record)
        if feed is None:
            from mmexec.marketdata.live.feed import BybitPublicFeed, FeedConfig

            feed = BybitPublicFeed(FeedConfig(symbols=symbols, ws_url=live.ws_url,
                                              stale_after_ms=live.stale_after_ms, queue_size=live.queue_size))
        self.feed = feed
        self.record_path = record
        self.recorder: CaptureRecorder | None = None
        self.run: Run | None = None
        self.stopped_by = "duration" if self.duration_ms else "end of feed"
        self.gap_resubscribes = 0  # resubscriptions after a `u` gap
        self.drop_resubscribes = 0  # ... after dropped messages (queue overflow)
        self._gaps = dict.fromkeys(symbols, 0)
        self._drops_seen = 0
        self.fills: dict[str, int] = {}  # fills per symbol (the panel)
        self.on_batch: Callable[[LiveSession], None] | None = None
        self.journal: SessionJournal | None = None  # --state / --resume (mmexec.run.live_journal)
        self.resumed = False

    def adopt(self, run: Run) -> None:
        """Continue ``run``, restored from a journal checkpoint: every book is invalid until its fresh snapshot
        arrives (no quote, no fill on the checkpoint's stale book); the recording, if any, goes to a new part
        file; ``--duration`` counts the market time the run already covered."""
        from mmexec.marketdata.live.recorder import resume_part

        replay = run.replay
        assert isinstance(replay, LiveDriver) and isinstance(replay.market.source, LiveSource)
        self.run, self.resumed = run, True
        self.source = replay.market.source
        replay.live_section = self.live_section
        for symbol, book in replay.market.books.items():
            book.invalidate()
            self._gaps[symbol] = book.gaps
        if self.record_path is not None:
            self.record_path = resume_part(self.record_path)
            self.source.new_part(self.record_path)
        if self.duration_ms is not None and replay.first_local_ms is not None and replay.last_local_ms is not None:
            self.duration_ms = max(self.duration_ms - (replay.last_local_ms - replay.first_local_ms), 0)

    # ---------------------------------------------------------------- control
    def stop(self, reason: str) -> None:
        """End the session (``reason``: ``duration`` or a signal name); what is queued is still consumed."""
        if self.stopped_by in ("duration", "end of feed") and reason != "duration":
            self.stopped_by = reason
        self.feed.stop()

    async def run_async(self) -> None:
        """Connect, consume until stopped, finish the run and the recording (also after an error)."""
        from mmexec.marketdata.live.recorder import CaptureRecorder

        loop = asyncio.get_running_loop()
        deadline = (loop.call_later(self.duration_ms / 1000, self.stop, "duration")
                    if self.duration_ms is not None else None)
        self.recorder = CaptureRecorder(self.record_path) if self.record_path is not None else None
        runner = asyncio.ensure_future(self.feed.run())
        feed = self.feed
        try:
            while (message := await feed.get()) is not None:
                self._on_message(message)
                while (message := feed.get_nowait()) is not None:
                    self._on_message(message)
                if feed.stats.drops != self._drops_seen:  # the queue overflowed: resync every book
                    self._drops_seen = feed.stats.drops
                    self.drop_resubscribes += 1
                    for symbol in self.source.symbols:
                        feed.request_resubscribe(symbol)
                if self.journal is not None:
                    self.journal.after_batch()
                if self.on_batch is not None:
                    self.on_batch(self)
            await runner
        finally:
            if deadline is not None:
                deadline.cancel()
            if not runner.done():
                feed.stop()
                await asyncio.gather(runner, return_exceptions=True)
            if self.recorder is not None:
                self.source.files = [self.source.stats] if self.recorder.lines else []
                self.recorder.close()  # the recording is complete and in place, whatever happened
        if self.run is not None and self.run.replay is not None:
            self.run.replay.finish()

    def _on_message(self, message: FeedMessage) -> None:
        """Parse, record, trade; a ``u`` gap resubscribes its symbol (drops are handled per batch: the message
        after them may be long in coming, and which symbol lost what is unknown, so every book is resynced)."""
        events = self.source.parse(message)
        if events is None:
            return
        if self.recorder is not None:
            self.recorder.write(message.recv_ns, message.text)
        run = self.run
        if run is None:
            if not events:
                return
            self.source.prime(events)
            run = self.run = self._build()
            assert run.replay is not None
            run.replay.consume(run.replay.market.events())
        else:
            assert run.replay is not None
            run.replay.consume(events)
        first = events[0] if events else None
        if type(first) is BookDelta:
            symbol = first.symbol
            gaps = run.replay.market.books[symbol].gaps
            if gaps != self._gaps[symbol]:
                self._gaps[symbol] = gaps
                self.gap_resubscribes += 1
                self.feed.request_resubscribe(symbol)

    def _build(self) -> Run:
        from mmexec.run.builder import build_run

        journal = self.journal
        run = build_run(self.spec, utc=self.utc, fill_listeners=self.fill_listeners,
                        risk_listeners=self.risk_listeners, config_sources=self.config_sources,
                        live_source=self.source, order_store=journal.order_store() if journal is not None else None)
        assert isinstance(run.replay, LiveDriver)
        run.replay.live_section = self.live_section
        run.loop.fill_listeners.append(self.count_fill)
        if journal is not None:
            journal.attach(run)
        return run

    def count_fill(self, fill: Any) -> None:
        """The panel's fills per symbol (public: a journal checkpoint stores bound methods by public name)."""
        self.fills[fill.symbol] = self.fills.get(fill.symbol, 0) + 1

    # ---------------------------------------------------------------- what the report and the panel show
    def live_section(self) -> dict[str, Any]:
        """``market.live``: the source, the stop, the feed's counters (all of it differs from the replay)."""
        stats = self.feed.stats
        feed = stats.as_dict()
        for name in ("lag_sum_ns", "lag_min_ns", "lag_max_ns", "lag_count"):
            feed.pop(name)
        return {
            "ws_url": self.feed.config.ws_url,
            "duration": self.spec.live.duration,
            "stopped_by": self.stopped_by,
            "stale_after_ms": self.feed.config.stale_after_ms,
            "queue_size": self.feed.config.queue_size,
            "record": self.record_path.name if self.record_path is not None else None,
            "resumed": self.resumed,
            "feed": feed,
            "failed_topics": sorted(self.feed.failed_topics),
            "unparsable": self.source.unparsable,
            "resubscribes_after_gap": self.gap_resubscribes,
            "resubscribes_after_drops": self.drop_resubscribes,
            "queue_lag_ms": {"count": stats.lag_count,
                             "mean": stats.lag_sum_ns // stats.lag_count // 1_000_000 if stats.lag_count else None,
                             "max": stats.lag_max_ns // 1_000_000 if stats.lag_count else None},
        }

    def lag_ms(self) -> int | None:
        """Feed lag now: wall clock minus the receive time of the last message consumed, ms."""
        replay = self.run.replay if self.run is not None else None
        if replay is None or replay.last_local_ms is None:
            return None
        return time.time_ns() // 1_000_000 - replay.last_local_ms


def exit_code_of(stopped_by: str) -> int:
    """0 after ``--duration`` (or the end of the feed), 130 / 143 after SIGINT / SIGTERM."""
    return {"SIGINT": 130, "SIGTERM": 143}.get(stopped_by, 0)


__all__ = ["LiveDriver", "LiveSession", "LiveSource", "exit_code_of", "require_live_extra"]
