"""Binance combined-stream captures (USD-M futures and spot): ``<receive ns> <json>`` lines.

Streams: ``<sym>@depth[@0ms|@100ms]`` (diffs, new absolute quantities), ``<sym>@bookTicker``, ``<sym>@trade``
and ``<sym>@aggTrade``; a REST depth snapshot (``{"lastUpdateId", "bids", "asks"}``, no ``stream``) may be
inline. Exchange time is the event time ``E`` (the receive time when a message has none, as spot bookTicker).
Futures trades other than ``X == "MARKET"`` (insurance fund, ADL) did not trade against the book: skipped and
counted. Inverse contracts (COIN-M, ``btcusd_perp``) are refused: their quantities are contracts, not coins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from mmexec.errors import InputError
from mmexec.marketdata.capture import (
    STREAM_ERRORS,
    FileStats,
    first_lines_of_symbols,
    off_grid_error,
    open_stream,
    stream_error,
    torn_or_raise,
    where,
)
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, MarketEvent, TradePrint
from mmexec.marketdata.feedclock import FeedClock
from mmexec.marketdata.instruments import Grid, OffGridError, levels_of

_DEPTH, _BBO, _TRADE, _AGG, _OTHER = 0, 1, 2, 3, 4
INVERSE_REFUSED = ("inverse contracts (Binance COIN-M, {sym}) are out of scope: their quantities are contracts, "
                   "not coins; replay USD-M or spot captures")


def _stream_kind(stream: str) -> tuple[int, str]:
    name, _, kind = stream.partition("@")
    symbol = name.upper()
    if kind.startswith("depth"):
        return _DEPTH, symbol
    return {"bookTicker": _BBO, "trade": _TRADE, "aggTrade": _AGG}.get(kind, _OTHER), symbol


def is_inverse(symbol: str) -> bool:
    return "_" in symbol or symbol.endswith("USD")


_STREAM_NAME = re.compile(rb'"stream"\s*:\s*"([^"@]*)@')


def _inverse_refused(name: str, symbol: str) -> str | None:
    return INVERSE_REFUSED.format(sym=name) if is_inverse(symbol) else None


def symbols_in(path: Path, lines: Iterable[tuple[int, bytes]]) -> dict[str, int]:
    """Symbols named by the streams of ``lines``, with the line each first appears on (no JSON parsing); inverse
    contracts -> :class:`InputError`."""
    return first_lines_of_symbols(path, lines, _STREAM_NAME, str.upper, _inverse_refused)


def parse(stats: FileStats, grids: Mapping[str, tuple[Grid, Grid]], clock: FeedClock,
          only: frozenset[str]) -> Iterator[MarketEvent]:
    """Events of one capture file, in file order (symbols outside ``only`` -> :class:`InputError`).

    This is the replay's hottest loop: the receive clock (see :mod:`mmexec.marketdata.feedclock`), the grid
    caches and the message counters are inlined.
    """
    path = stats.path
    streams: dict[str, tuple[int, str, Grid, Grid, dict[str | bytes, int], dict[str | bytes, int]]] = {}
    file_symbols: set[str] = set()
    loads = orjson.loads
    new = tuple.__new__
    n_bbo = n_trade = n_depth = n_skipped = n_other = n_snapshot = 0
    latency = clock.latency_ms
    lat_get = latency.get
    last_raw, last_eff, clamped = -1, 0, 0
    line_no = 0
    try:
        with open_stream(path) as lines:
            for raw in lines:
                line_no += 1
                try:
                    if raw[:1] == b"{":
                        local_ns = None
                        obj = loads(raw)
                    else:
                        sp = raw.index(b" ")
                        local_ns = int(raw[:sp])
                        obj = loads(raw[sp + 1:])
                        if local_ns < last_raw:
                            raise InputError(f"receive time goes backwards ({local_ns} after {last_raw} ns)",
                                             source=where(path, line_no))
                        last_raw = local_ns
                    stream = obj.get("stream")
                    if stream is None:
                        snap = _snapshot(obj, file_symbols, grids, local_ns, line_no)
                        n_snapshot += 1
                        eff = clock.stamp(local_ns, snap.exch_ms, line_no)
                        yield snap._replace(local_ns=max(eff, last_eff))
                        last_eff = max(eff, last_eff)
                        continue
                    spec = streams.get(stream)
                    if spec is None:
                        spec = streams[stream] = _stream_spec(path, line_no, stream, grids, only)
                        file_symbols.add(spec[1])
                    kind, symbol, price, qty, pc, qc = spec
                    data = obj["data"]
                    exch = data.get("E")
                    if exch is None:  # spot bookTicker: no exchange time, the receive time stands in
                        exch = (local_ns or 0) // 1_000_000
                    # the receive clock, inlined (FeedClock.stamp)
                    if local_ns is None:
                        eff = exch * 1_000_000
                    else:
                        lat = local_ns // 1_000_000 - exch
                        latency[lat] = lat_get(lat, 0) + 1
                        eff = local_ns
                        if eff < exch * 1_000_000:
                            clamped += 1
                            eff = exch * 1_000_000
                    if eff < last_eff:  # noqa: PLR1730 -- faster than max() here
                        eff = last_eff
                    last_eff = eff
                    if kind == _BBO:
                        n_bbo += 1
                        b, bq, a, aq = data["b"], data["B"], data["a"], data["A"]
                        yield new(BestBidAsk, (
                            symbol, eff, exch,
                            pc[b] if b in pc else price.steps(b), qc[bq] if bq in qc else qty.steps(bq),
                            pc[a] if a in pc else price.steps(a), qc[aq] if aq in qc else qty.steps(aq)))
                    elif kind == _TRADE or kind == _AGG:  # noqa: PLR1714, SIM109 -- faster than a tuple test
                        if data.get("X", "MARKET") != "MARKET":
                            n_skipped += 1
                            continue
                        n_trade += 1
                        p, q = data["p"], data["q"]
                        yield new(TradePrint, (
                            symbol, eff, exch, pc[p] if p in pc else price.steps(p),
                            qc[q] if q in qc else qty.steps(q), "SELL" if data["m"] else "BUY",
                            int(data["t"] if kind == _TRADE else data["a"])))
                    elif kind == _DEPTH:
                        n_depth += 1
                        yield new(BookDelta, (
                            symbol, eff, exch, levels_of(data["b"], price, qty), levels_of(data["a"], price, qty),
                            int(data["U"]), int(data["u"]), int(data.get("pu", -1))))
                    else:
                        n_other += 1
                except InputError:
                    raise
                except OffGridError as exc:
                    raise off_grid_error(path, line_no, exc) from None
                except (ValueError, KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError) as exc:
                    if raw.strip():
                        torn_or_raise(stats, line_no, raw.endswith(b"\n"), exc)
    except STREAM_ERRORS as exc:
        raise stream_error(path, line_no, exc) from None
    finally:
        stats.lines = line_no
        clock.clamped += clamped
        counts = stats.messages
        for name, n in (("book_ticker", n_bbo), ("trade", n_trade), ("depth_diff", n_depth),
                        ("trade_skipped", n_skipped), ("other", n_other), ("snapshot", n_snapshot)):
            if n:
                counts[name] = counts.get(name, 0) + n


def _stream_spec(path: Path, line_no: int, stream: str, grids: Mapping[str, tuple[Grid, Grid]],
                 only: frozenset[str]) -> tuple[int, str, Grid, Grid, dict[str | bytes, int], dict[str | bytes, int]]:
    kind, symbol = _stream_kind(stream)
    if is_inverse(symbol):
        raise InputError(INVERSE_REFUSED.format(sym=stream.partition("@")[0]), source=where(path, line_no))
    if symbol not in only:
        raise InputError(f"data for {symbol}, which is not among --symbols {','.join(sorted(only))}",
                         source=where(path, line_no))
    price, qty = grids[symbol]
    return kind, symbol, price, qty, price.cache, qty.cache


def _snapshot(obj: dict[str, Any], file_symbols: set[str], grids: Mapping[str, tuple[Grid, Grid]],
              local_ns: int | None, line_no: int) -> BookSnapshot:
    if "lastUpdateId" not in obj:
        raise ValueError("neither a stream message nor a depth snapshot")
    symbol = obj.get("symbol") or obj.get("s")
    if symbol is None:
        if len(file_symbols) != 1 and len(grids) != 1:
            raise ValueError("a depth snapshot without a symbol in a file of several symbols")
        symbol = next(iter(file_symbols)) if file_symbols else next(iter(grids))
    symbol = str(symbol).upper()
    price, qty = grids[symbol]
    exch = obj.get("E")
    exch_ms = int(exch) if isinstance(exch, int) else (local_ns or 0) // 1_000_000
    return BookSnapshot(symbol, local_ns or exch_ms * 1_000_000, exch_ms, levels_of(obj["bids"], price, qty),
                        levels_of(obj["asks"], price, qty), int(obj["lastUpdateId"]))
