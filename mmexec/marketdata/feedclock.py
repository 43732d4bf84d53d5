"""The replay's two clocks: the receive (local) time the strategy sees and the exchange time the venue uses.

Recorded receive times can precede the exchange's event time (the recorder's clock ran behind: by up to
~1.3 s in the BTCUSDT sample). An event cannot be seen before it happened, so the effective receive time is
``max(receive, exchange, previous effective receive time of the same file)``: negative feed latency is
clamped to 0 (counted as ``clamped``), and the timeline of each file stays monotonic. Feed latency
statistics are of the raw ``receive - exchange`` values, in whole ms.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from mmexec.errors import InputError
from mmexec.marketdata.capture import where

_NS_PER_MS = 1_000_000


class FeedClock:
    """Per-file receive clock; :meth:`stamp` returns the effective receive time in ns."""

    __slots__ = ("_last_eff", "_last_raw", "clamped", "latency_ms", "path", "without_receive_time")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last_raw = -1
        self._last_eff = 0
        self.clamped = 0
        self.without_receive_time = 0
        self.latency_ms: Counter[int] = Counter()

    def stamp(self, local_ns: int | None, exch_ms: int, line_no: int) -> int:
        exch_ns = exch_ms * _NS_PER_MS
        if local_ns is None:  # no receive time recorded: the exchange time stands in for it
            self.without_receive_time += 1
            local_ns = exch_ns
        else:
            if local_ns < self._last_raw:
                raise InputError(f"receive time goes backwards ({local_ns} after {self._last_raw} ns)",
                                 source=where(self.path, line_no))
            self._last_raw = local_ns
            self.latency_ms[local_ns // _NS_PER_MS - exch_ms] += 1
        eff = local_ns
        if eff < exch_ns:
            self.clamped += 1
            eff = exch_ns
        eff = max(eff, self._last_eff)
        self._last_eff = eff
        return eff


def latency_summary(clocks: list[FeedClock]) -> dict[str, object]:
    """min / median (lower) / max of the raw feed latency over every file, in ms; and the clamp count."""
    hist: Counter[int] = Counter()
    for clock in clocks:
        hist.update(clock.latency_ms)
    total = sum(hist.values())
    out: dict[str, object] = {"samples": total, "min_ms": None, "median_ms": None, "max_ms": None,
                              "negative_clamped": sum(c.clamped for c in clocks)}
    if total:
        keys = sorted(hist)
        out["min_ms"], out["max_ms"] = keys[0], keys[-1]
        seen, half = 0, (total - 1) // 2
        for key in keys:
            seen += hist[key]
            if seen > half:
                out["median_ms"] = key
                break
    return out
