"""Binance combined-stream captures (USD-M futures and spot): ``<receive ns> <json>`` lines.

Streams: ``<sym>@depth[@0ms|@100ms]`` (diffs, new absolute quantities), ``<sym>@bookTicker``, ``<sym>@trade``
and ``<sym>@aggTrade``; a REST depth snapshot (``{"lastUpdateId", "bids", "asks"}``, no ``stream``) may be
inline. Exchange time is the event time ``E`` (the receive time when a message has none, as spot bookTicker).
Futures trades other than ``X == "MARKET"`` (insurance fund, ADL) did not trade against the book: skipped and
counted. Inverse contracts (COIN-M, ``btcusd_perp``) are refused: their quantities are contracts, not coins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from mmexec.errors import InputError
from mmexec.marketdata.capture import FileStats, iter_lines, split_receive_time, torn_or_raise, where
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, Level, MarketEvent, TradePrint
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


def symbols_in(path: Path, sample: list[tuple[int, bytes]]) -> dict[str, int]:
    """Symbols named by the streams of the first lines, with the line each first appears on (unreadable
    lines are left to the parser, which names them); inverse contracts -> :class:`InputError`."""
    found: dict[str, int] = {}
    for line_no, line in sample:
        try:
            obj = orjson.loads(split_receive_time(line)[1])
        except (ValueError, orjson.JSONDecodeError):
            continue
        stream = obj.get("stream") if isinstance(obj, dict) else None
        if isinstance(stream, str):
            symbol = _stream_kind(stream)[1]
            if is_inverse(symbol):
                raise InputError(INVERSE_REFUSED.format(sym=stream.partition("@")[0]), source=where(path, line_no))
            found.setdefault(symbol, line_no)
    return found


def _levels(raw: list[list[str]], price: Grid, qty: Grid) -> list[Level]:
    return levels_of(raw, price, qty)


def parse(stats: FileStats, grids: Mapping[str, tuple[Grid, Grid]], clock: FeedClock,
          only: frozenset[str]) -> Iterator[MarketEvent]:
    """Events of one capture file, in file order (symbols outside ``only`` -> :class:`InputError`)."""
    path = stats.path
    counts = stats.messages
    kinds: dict[str, tuple[int, str]] = {}
    file_symbols: set[str] = set()
    loads = orjson.loads
    stamp = clock.stamp
    for line_no, line, complete in iter_lines(path):
        stats.lines = line_no
        try:
            if line[:1] == b"{":
                local_ns = None
                obj = loads(line)
            else:
                sp = line.index(b" ")
                local_ns = int(line[:sp])
                obj = loads(line[sp + 1:])
            stream = obj.get("stream")
            if stream is None:
                event = _snapshot(obj, file_symbols, grids, local_ns, stamp, line_no)
                counts["snapshot"] = counts.get("snapshot", 0) + 1
                yield event
                continue
            kind_symbol = kinds.get(stream)
            if kind_symbol is None:
                kind_symbol = kinds[stream] = _stream_kind(stream)
                symbol = kind_symbol[1]
                if is_inverse(symbol):
                    raise InputError(INVERSE_REFUSED.format(sym=stream.partition("@")[0]),
                                     source=where(path, line_no))
                if symbol not in only:
                    raise InputError(f"data for {symbol}, which is not among --symbols {','.join(sorted(only))}",
                                     source=where(path, line_no))
                file_symbols.add(symbol)
            kind, symbol = kind_symbol
            data = obj["data"]
            price, qty = grids[symbol]
            if kind == _BBO:
                exch = data.get("E")
                eff = stamp(local_ns, exch if exch is not None else (local_ns or 0) // 1_000_000, line_no)
                counts["book_ticker"] = counts.get("book_ticker", 0) + 1
                yield BestBidAsk(symbol, eff, exch if exch is not None else eff // 1_000_000,
                                 price.steps(data["b"]), qty.steps(data["B"]), price.steps(data["a"]),
                                 qty.steps(data["A"]))
            elif kind in (_TRADE, _AGG):
                exch = data["E"]
                if data.get("X", "MARKET") != "MARKET":
                    counts["trade_skipped"] = counts.get("trade_skipped", 0) + 1
                    stamp(local_ns, exch, line_no)
                    continue
                counts["trade"] = counts.get("trade", 0) + 1
                yield TradePrint(symbol, stamp(local_ns, exch, line_no), exch, price.steps(data["p"]),
                                 qty.steps(data["q"]), "SELL" if data["m"] else "BUY",
                                 int(data["t"] if kind == _TRADE else data["a"]))
            elif kind == _DEPTH:
                exch = data["E"]
                counts["depth_diff"] = counts.get("depth_diff", 0) + 1
                yield BookDelta(symbol, stamp(local_ns, exch, line_no), exch, _levels(data["b"], price, qty),
                                _levels(data["a"], price, qty), int(data["U"]), int(data["u"]),
                                int(data.get("pu", -1)))
            else:
                counts["other"] = counts.get("other", 0) + 1
        except InputError:
            raise
        except OffGridError as exc:
            raise InputError(f"price or quantity off the instrument grid: {exc} (fix it with --instrument)",
                             source=where(path, line_no)) from None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError) as exc:
            torn_or_raise(stats, line_no, complete, exc)


def _snapshot(obj: dict[str, object], file_symbols: set[str], grids: Mapping[str, tuple[Grid, Grid]],
              local_ns: int | None, stamp: object, line_no: int) -> BookSnapshot:
    if "lastUpdateId" not in obj:
        raise ValueError("neither a stream message nor a depth snapshot")
    symbol = obj.get("symbol") or obj.get("s")
    if symbol is None:
        if len(file_symbols) != 1 and len(grids) != 1:
            raise ValueError("a depth snapshot without a symbol in a file of several symbols")
        symbol = next(iter(file_symbols)) if file_symbols else next(iter(grids))
    assert isinstance(symbol, str)
    price, qty = grids[symbol.upper()]
    exch = obj.get("E")
    exch_ms = int(exch) if isinstance(exch, int) else (local_ns or 0) // 1_000_000
    eff = stamp(local_ns, exch_ms, line_no)  # type: ignore[operator]
    bids, asks = obj["bids"], obj["asks"]
    assert isinstance(bids, list) and isinstance(asks, list)
    return BookSnapshot(symbol.upper(), eff, exch_ms, _levels(bids, price, qty), _levels(asks, price, qty),
                        int(obj["lastUpdateId"]))  # type: ignore[call-overload]
