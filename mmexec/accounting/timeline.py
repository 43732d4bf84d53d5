"""The run's timeline: per-symbol state sampled at a fixed virtual interval, plus the events that matter.

The recorder knows nothing about the engine: it is fed

- ``sample(t_ms, states)`` with a read-only :class:`StateView` per symbol (e.g. a :class:`SymbolState`), whenever
  :meth:`TimelineRecorder.due` says a sample is due (``t_ms`` is run-relative virtual time);
- ``on_fill(fill)`` (a fill listener), ``on_freeze`` / ``on_unfreeze``, and ``on_market_event`` for replay and
  live runs (gaps, resyncs, reconnects).

Sampling: a sample is due at the first step at or after each multiple of ``sample_ms``. The section keeps at
most ``max_samples`` samples; when it is full, ``sample_ms`` doubles and only the samples the doubled interval
would have taken are kept (every 2nd one on a regular step grid), so a long run ends with about
``max_samples / 2`` to ``max_samples`` evenly spaced points, exactly those a run sampled at the final interval
from the start would have. :meth:`finish` adds the end-of-run state (or replaces a sample taken at the same
virtual time), so the last point always matches the report's totals. Fill events follow the same rule (at most
``max_samples``; when full, every 2nd is kept and from then on every 2nd, 4th, ... fill is recorded); other
events are kept up to ``max_samples``. Whatever is not kept is counted in ``events_dropped``. Nothing depends on
the wall clock, so the section is as byte-deterministic as the rest of the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from mypy_extensions import mypyc_attr

from mmexec.engine.models import FillEvent, Side

DEFAULT_MAX_SAMPLES = 1000
TARGET_SAMPLES = 300  # the automatic interval aims at about this many points
UNKNOWN_LENGTH_SAMPLE_MS = 1000  # the automatic interval when the run's length is not known in advance
SERIES = ("mid", "best_bid", "best_ask", "our_bid", "our_ask", "position", "realized", "unrealized", "net",
          "fees", "rebates", "open_orders")


def default_sample_ms(step_ms: int, run_ms: int | None) -> int:
    """One sample per step for short runs, about :data:`TARGET_SAMPLES` for long ones.

    ``max(step_ms, run_ms / 300)`` rounded up to a whole number of steps; :data:`UNKNOWN_LENGTH_SAMPLE_MS`
    (rounded up the same way) when the run's length is not known (replay of an open-ended feed, live).
    """
    step = max(1, step_ms)
    want = UNKNOWN_LENGTH_SAMPLE_MS if run_ms is None else -(-run_ms // TARGET_SAMPLES)
    return max(step, -(-want // step) * step)


class StateView(Protocol):
    """What a sample records per symbol; read when the section is built, so a view may compute lazily from
    values it captured (immutable) at the sample. ``None``: not known yet, or no resting order on that side."""

    @property
    def mid(self) -> Decimal | None: ...
    @property
    def best_bid(self) -> Decimal | None: ...
    @property
    def best_ask(self) -> Decimal | None: ...
    @property
    def our_bid(self) -> Decimal | None: ...
    @property
    def our_ask(self) -> Decimal | None: ...
    @property
    def position(self) -> Decimal: ...
    @property
    def realized(self) -> Decimal: ...
    @property
    def unrealized(self) -> Decimal: ...
    @property
    def net(self) -> Decimal: ...
    @property
    def fees(self) -> Decimal: ...
    @property
    def rebates(self) -> Decimal: ...
    @property
    def open_orders(self) -> int: ...


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class SymbolState:
    """One symbol's state at a sample, as plain values (a :class:`StateView`)."""

    mid: Decimal | None
    best_bid: Decimal | None
    best_ask: Decimal | None
    our_bid: Decimal | None
    our_ask: Decimal | None
    position: Decimal
    realized: Decimal
    unrealized: Decimal
    net: Decimal
    fees: Decimal
    rebates: Decimal
    open_orders: int


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class TimelineRecorder:
    """Collects the ``timeline`` section of one run (see the module docstring)."""

    __slots__ = ("_event_seq", "_events", "_fill_stride", "_fills", "_fills_seen", "_grids", "_other_dropped",
                 "_states", "_t_ms", "max_samples", "next_due_ms", "origin_ms", "sample_ms", "symbols")

    def __init__(self, symbols: Sequence[str], *, sample_ms: int, max_samples: int = DEFAULT_MAX_SAMPLES,
                 origin_ms: int = 0) -> None:
        if sample_ms < 1:
            raise ValueError(f"sample_ms must be >= 1, got {sample_ms}")
        if max_samples < 2:
            raise ValueError(f"max_samples must be >= 2, got {max_samples}")
        self.symbols = tuple(symbols)
        self.sample_ms = sample_ms
        self.max_samples = max_samples
        self.origin_ms = origin_ms  # the clock value at which the run starts: t_ms = clock - origin_ms
        self.next_due_ms = sample_ms
        self._t_ms: list[int] = []
        self._states: dict[str, list[StateView | None]] = {s: [] for s in self.symbols}
        self._fills: list[tuple[int, FillEvent]] = []  # (sequence number, fill); converted in section()
        self._fills_seen = 0
        self._fill_stride = 1
        self._events: list[tuple[int, dict[str, Any]]] = []
        self._event_seq = 0
        self._other_dropped = 0
        self._grids: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (tick, lot), for on_ticks

    # ---------------------------------------------------------------- samples
    def due(self, t_ms: int) -> bool:
        return t_ms >= self.next_due_ms

    def sample(self, t_ms: int, states: Mapping[str, StateView]) -> None:
        """Record the state at ``t_ms`` if a sample is due then (after any down-sampling)."""
        if t_ms < self.next_due_ms:
            return
        if len(self._t_ms) >= self.max_samples:
            self._downsample()
            if t_ms < self.next_due_ms:
                return
        self._append(t_ms, states)
        self.next_due_ms = (t_ms // self.sample_ms + 1) * self.sample_ms

    def finish(self, t_ms: int, states: Mapping[str, StateView]) -> None:
        """Record the end-of-run state at ``t_ms``. A sample already taken at ``t_ms`` is replaced: what
        happened after it at the same virtual time (fills applied as the run ends) belongs to the last point."""
        if t_ms <= 0 or (self._t_ms and self._t_ms[-1] > t_ms):
            return
        if self._t_ms and self._t_ms[-1] == t_ms:
            for symbol, views in self._states.items():
                views[-1] = states.get(symbol)
            return
        if len(self._t_ms) >= self.max_samples:
            self._downsample()
        self._append(t_ms, states)

    def _append(self, t_ms: int, states: Mapping[str, StateView]) -> None:
        self._t_ms.append(t_ms)
        for symbol, views in self._states.items():
            views.append(states.get(symbol))

    def _downsample(self) -> None:
        """Double the interval (until there is room) and keep exactly the samples it would have taken.

        A step that is the first at or after a multiple of ``2 * sample_ms`` is also the first at or after a
        multiple of ``sample_ms``, so it was sampled: what is kept equals sampling at the new interval from
        the start. On a regular step grid that is every 2nd sample.
        """
        keep = list(range(len(self._t_ms)))
        while len(keep) >= self.max_samples:
            self.sample_ms *= 2
            keep = self._on_grid(keep)
        self._t_ms = [self._t_ms[i] for i in keep]
        for symbol, views in self._states.items():
            self._states[symbol] = [views[i] for i in keep]
        last = self._t_ms[-1] if self._t_ms else 0
        self.next_due_ms = (last // self.sample_ms + 1) * self.sample_ms

    def _on_grid(self, indices: list[int]) -> list[int]:
        kept: list[int] = []
        due = self.sample_ms
        for i in indices:
            t_ms = self._t_ms[i]
            if t_ms >= due:
                kept.append(i)
                due = (t_ms // self.sample_ms + 1) * self.sample_ms
        return kept

    # ---------------------------------------------------------------- events
    def on_fill(self, fill: FillEvent) -> None:
        """Fill listener: keep every ``stride``-th fill, at most ``max_samples`` of them (the hot path)."""
        if self._keep():
            self._event_seq += 1
            self._fills.append((self._event_seq, fill))

    def set_grid(self, symbol: str, tick_size: Decimal, lot_size: Decimal) -> None:
        """Integer fill listener (``TickFillListener``): a symbol's grid, for :meth:`on_ticks`."""
        self._grids[symbol] = (tick_size, lot_size)

    def on_ticks(self, symbol: str, is_buy: bool, lots: int, ticks: int, is_maker: bool, timestamp_ms: int) -> None:
        """:meth:`on_fill` of a fill in lots and ticks: a ``FillEvent`` is built only for a fill that is kept."""
        if self._keep():
            tick, lot = self._grids[symbol]
            self._event_seq += 1
            self._fills.append((self._event_seq, FillEvent("", "", symbol, Side.BUY if is_buy else Side.SELL,
                                                           lots * lot, ticks * tick, timestamp_ms, is_maker)))

    def _keep(self) -> bool:
        """Count a fill; True when it is one of the kept ones (every ``stride``-th, thinning past the cap)."""
        index = self._fills_seen
        self._fills_seen = index + 1
        if index % self._fill_stride:
            return False
        if len(self._fills) >= self.max_samples:
            self._fills = self._fills[::2]
            self._fill_stride *= 2
            if index % self._fill_stride:
                return False
        return True

    @property
    def events_dropped(self) -> int:
        """Events not kept: fills thinned out, and other events beyond the cap."""
        return self._fills_seen - len(self._fills) + self._other_dropped

    def on_freeze(self, t_ms: int, symbol: str, reason: str) -> None:
        self._note({"t_ms": t_ms, "kind": "freeze", "symbol": symbol, "reason": reason})

    def on_unfreeze(self, t_ms: int) -> None:
        self._note({"t_ms": t_ms, "kind": "unfreeze"})

    def on_market_event(self, t_ms: int, kind: str, symbol: str | None = None, **detail: Any) -> None:
        """A market-data event worth marking (``gap``, ``resync``, ``reconnect``); ``detail`` goes in as is."""
        event: dict[str, Any] = {"t_ms": t_ms, "kind": kind, **detail}
        if symbol is not None:
            event["symbol"] = symbol
        self._note(event)

    def _note(self, event: dict[str, Any]) -> None:
        if len(self._events) >= self.max_samples:
            self._other_dropped += 1
            return
        self._events.append((self._next_seq(), event))

    def _next_seq(self) -> int:
        self._event_seq += 1
        return self._event_seq

    def _fill_event(self, fill: FillEvent) -> dict[str, Any]:
        return {"t_ms": fill.timestamp_ms - self.origin_ms, "kind": "fill", "symbol": fill.symbol,
                "side": str(fill.side), "price": fill.price, "qty": fill.qty,
                "liquidity": "maker" if fill.is_maker else "taker"}

    # ---------------------------------------------------------------- the section
    def section(self) -> dict[str, Any]:
        """The report's ``timeline`` section: columnar series, events in time order (ties: arrival order)."""
        events = [(seq, self._fill_event(fill)) for seq, fill in self._fills] + self._events
        events.sort(key=lambda item: (item[1]["t_ms"], item[0]))
        return {
            "sample_ms": self.sample_ms,
            "samples": len(self._t_ms),
            "t_ms": list(self._t_ms),
            "symbols": {symbol: {name: [None if view is None else getattr(view, name) for view in views]
                                 for name in SERIES}
                        for symbol, views in self._states.items()},
            "events": [event for _, event in events],
            "events_dropped": self.events_dropped,
        }
