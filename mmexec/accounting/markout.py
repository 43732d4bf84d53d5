"""Markouts of the strategy's own fills, and the measured edge that feeds the kill switch in replay.

For a fill at price ``p``, the markout at horizon H is ``(mid(t + H) - p) / p`` in bps, sign flipped for
sells, where ``t`` is the fill's exchange time and ``mid(t + H)`` the touch mid of the latest market event of
the symbol with exchange time <= t + H. "Net" subtracts the maker fee and adds the maker rebate of the fee
schedule that priced the fill (bps of notional, so they subtract directly). Fills whose horizon runs past the
end of the data are not counted. Exact ``Decimal`` arithmetic; means are rounded to 1/10,000 bps.

Distribution: per horizon, over all symbols, the count of fills whose *net* markout falls in each of the fixed
buckets of :data:`BUCKET_EDGES_BPS` (half-open ``[lo, hi)``, plus an open bucket below the first edge and one
from the last edge up). Net, because that is what a fill earned and what the edge below watches; the gross
distribution is the same shifted by the symbol's ``fee_bps``. The edges are symmetric and widen away from 0
(0.2 bps near the touch, where short horizons sit, up to 50 bps for 30 s moves), so a handful of integers
describe any run; exact ``Decimal`` comparisons, so the counts are deterministic.

The edge (replay's kill switch): the mean net markout at ``markout_ms`` over the last ``edge_window`` fills of
a symbol, fed to the risk monitor each time a fill's markout resolves once the window is full; below
``--edge-threshold`` it freezes trading exactly like the synthetic edge signal.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from mmexec.engine.models import FillEvent, Side

HORIZONS_MS = (100, 1_000, 5_000, 30_000)
_BPS = Decimal(10_000)
_Q = Decimal("0.0001")
_ZERO = Decimal(0)
_NEVER = 2**62
BUCKET_EDGES_BPS = tuple(Decimal(e) for e in ("-50", "-20", "-10", "-5", "-2", "-1", "-0.5", "-0.2", "0",
                                              "0.2", "0.5", "1", "2", "5", "10", "20", "50"))


def horizon_label(horizon_ms: int) -> str:
    return f"{horizon_ms // 1000}s" if horizon_ms % 1000 == 0 else f"{horizon_ms}ms"


class _Sums:
    __slots__ = ("buckets", "count", "gross", "net")

    def __init__(self) -> None:
        self.count = 0
        self.gross = _ZERO
        self.net = _ZERO
        self.buckets = [0] * (len(BUCKET_EDGES_BPS) + 1)  # net markouts per bucket

    def add(self, gross: Decimal, net: Decimal) -> None:
        self.count += 1
        self.gross += gross
        self.net += net
        self.buckets[bisect_right(BUCKET_EDGES_BPS, net)] += 1

    def to_dict(self) -> dict[str, Any]:
        n = self.count
        return {"count": n,
                "mean_bps": (self.gross / n).quantize(_Q) if n else None,
                "mean_net_bps": (self.net / n).quantize(_Q) if n else None}


class MarkoutTracker:
    """Fed fills at execution time (:meth:`on_execution`) and market progress (:meth:`advance`)."""

    def __init__(self, symbols: list[str], tick_sizes: Mapping[str, Decimal], fee_bps: Mapping[str, Decimal],
                 *, markout_ms: int = 1_000, edge_window: int = 20,
                 on_edge: Callable[[str, Decimal], object] | None = None) -> None:
        self.horizons = tuple(sorted(set(HORIZONS_MS) | {markout_ms}))
        self.markout_ms = markout_ms
        self.edge_window = edge_window
        self.on_edge = on_edge
        self.tick_half = {s: tick_sizes[s] / 2 for s in symbols}
        self.fee_bps = dict(fee_bps)
        # per symbol, per horizon: fills waiting for their mid (target_ms, sign, price)
        self._waiting: dict[str, list[deque[tuple[int, int, Decimal]]]] = {
            s: [deque() for _ in self.horizons] for s in symbols}
        self._sums: dict[str, dict[int, _Sums]] = {s: {h: _Sums() for h in self.horizons} for s in symbols}
        self._window: dict[str, deque[Decimal]] = {s: deque(maxlen=edge_window) for s in symbols}
        self._window_sum: dict[str, Decimal] = dict.fromkeys(symbols, _ZERO)
        # earliest target time of a waiting markout per symbol (a large sentinel when none waits)
        self.next_due: dict[str, int] = dict.fromkeys(symbols, _NEVER)
        self.edge_updates = 0
        self.last_edge: dict[str, Decimal] = {}

    def on_execution(self, fill: FillEvent) -> None:
        sign = 1 if fill.side is Side.BUY else -1
        for horizon, queue in zip(self.horizons, self._waiting[fill.symbol], strict=True):
            queue.append((fill.timestamp_ms + horizon, sign, fill.price))
        self._set_next_due(fill.symbol)

    def _set_next_due(self, symbol: str) -> None:
        heads = [queue[0][0] for queue in self._waiting[symbol] if queue]
        self.next_due[symbol] = min(heads) if heads else _NEVER

    def advance(self, symbol: str, exch_ms: int, mid2: int) -> None:
        """An event of ``symbol`` at ``exch_ms`` is about to change the book whose touch mid is ``mid2 / 2``
        ticks: every fill whose target time is before ``exch_ms`` resolves at this mid. Callers may skip
        the call while ``exch_ms <= next_due[symbol]``."""
        waiting = self._waiting.get(symbol)
        if waiting is None or mid2 == 0:
            return
        for index, queue in enumerate(waiting):
            if queue and queue[0][0] < exch_ms:
                self._resolve(symbol, index, queue, exch_ms, mid2)
        self._set_next_due(symbol)

    def _resolve(self, symbol: str, index: int, queue: deque[tuple[int, int, Decimal]], exch_ms: int,
                 mid2: int) -> None:
        horizon = self.horizons[index]
        sums = self._sums[symbol][horizon]
        mid = mid2 * self.tick_half[symbol]
        fee = self.fee_bps.get(symbol, _ZERO)
        while queue and queue[0][0] < exch_ms:
            _, sign, price = queue.popleft()
            gross = (mid - price) * _BPS / price if sign > 0 else (price - mid) * _BPS / price
            net = gross - fee
            sums.add(gross, net)
            if horizon == self.markout_ms:
                self._edge(symbol, net)

    def _edge(self, symbol: str, net: Decimal) -> None:
        window = self._window[symbol]
        total = self._window_sum[symbol] + net
        if len(window) == window.maxlen:
            total -= window[0]
        window.append(net)
        self._window_sum[symbol] = total
        if len(window) == self.edge_window:
            edge = (total / self.edge_window).quantize(_Q)
            self.last_edge[symbol] = edge
            self.edge_updates += 1
            if self.on_edge is not None:
                self.on_edge(symbol, edge)

    def section(self) -> dict[str, Any]:
        labels = [(h, horizon_label(h)) for h in HORIZONS_MS]
        by_symbol: dict[str, Any] = {}
        totals = {h: _Sums() for h in HORIZONS_MS}
        for symbol in sorted(self._sums):
            sums = self._sums[symbol]
            by_symbol[symbol] = {label: sums[h].to_dict() for h, label in labels}
            for h in HORIZONS_MS:
                t = totals[h]
                t.count += sums[h].count
                t.gross += sums[h].gross
                t.net += sums[h].net
                t.buckets = [a + b for a, b in zip(t.buckets, sums[h].buckets, strict=True)]
        return {
            "horizons_ms": list(HORIZONS_MS),
            "fee_bps": {s: self.fee_bps.get(s, _ZERO) for s in sorted(self._sums)},
            "by_symbol": by_symbol,
            "total": {label: totals[h].to_dict() for h, label in labels},
            "distribution": {"measure": "net_bps", "edges_bps": list(BUCKET_EDGES_BPS),
                             "counts": {label: totals[h].buckets for h, label in labels}},
            "edge": {"markout_ms": self.markout_ms, "window": self.edge_window, "updates": self.edge_updates,
                     "last_bps": dict(sorted(self.last_edge.items()))},
        }
