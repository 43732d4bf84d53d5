"""Bybit V5 public captures: one WebSocket message per line, optionally prefixed by a receive time in ns.

Topics: ``orderbook.{depth}.{symbol}`` (``type`` snapshot / delta, absolute quantities, ``data.u`` update id: a
snapshot, or ``u == 1``, resets the book; a delta must have ``u == previous u + 1``) and ``publicTrade.{symbol}``
(also ``trade.linear.{symbol}``; ``S`` is the taker's side). Exchange time is ``cts`` (matching engine) when
present, else ``ts``; trades use their own ``T``. Without a receive-time prefix the exchange time stands in for
it. Only the first order-book depth seen per symbol builds the book; other depths are counted and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from mmexec.errors import InputError
from mmexec.marketdata.capture import (
    FileStats,
    first_lines_of_symbols,
    iter_lines,
    off_grid_error,
    split_receive_time,
    torn_or_raise,
    where,
)
from mmexec.marketdata.events import BookDelta, BookSnapshot, Level, MarketEvent, TradePrint
from mmexec.marketdata.feedclock import FeedClock
from mmexec.marketdata.instruments import Grid, OffGridError, levels_of


def _topic_symbol(topic: str) -> tuple[str, str]:
    kind, _, rest = topic.partition(".")
    return kind, rest.rpartition(".")[2].upper()


_TOPIC = re.compile(rb'"topic"\s*:\s*"([^"]*)"')


def _inverse_refused(_: str, symbol: str) -> str | None:
    if symbol.endswith("USD"):
        return (f"inverse contracts ({symbol}) are out of scope: their quantities are contracts, not coins; replay "
                "linear or spot captures")
    return None


def symbols_in(path: Path, lines: Iterable[tuple[int, bytes]]) -> dict[str, int]:
    """Symbols of the topics of ``lines``, with the line each first appears on (no JSON parsing); inverse
    contracts -> :class:`InputError`."""
    return first_lines_of_symbols(path, lines, _TOPIC, lambda topic: _topic_symbol(topic)[1], _inverse_refused)


def _levels(raw: list[list[str]], price: Grid, qty: Grid) -> list[Level]:
    return levels_of(raw, price, qty)


class BybitLineParser:
    """One Bybit capture line at a time -> its market events; shared by replay (lines of a file) and the live
    market (messages as they arrive, in exactly the line a recording keeps), so both see the same events.

    A line is checked whole before anything is counted or stamped: a line that raises changes no state.
    """

    __slots__ = ("book_topic", "clock", "counts", "grids", "only", "path")

    def __init__(self, stats: FileStats, grids: Mapping[str, tuple[Grid, Grid]], clock: FeedClock,
                 only: frozenset[str]) -> None:
        self.path = stats.path
        self.counts = stats.messages
        self.grids = grids
        self.clock = clock
        self.only = only
        self.book_topic: dict[str, str] = {}

    def events(self, line_no: int, line: bytes) -> list[MarketEvent]:
        """The events of one line; ValueError / KeyError / ... for a line that does not parse, InputError for
        data of a symbol not traded."""
        counts = self.counts
        local_ns, body = split_receive_time(line)
        obj: dict[str, Any] = orjson.loads(body)
        topic = obj["topic"]
        kind, symbol = _topic_symbol(topic)
        if kind not in ("orderbook", "publicTrade", "trade"):
            counts["other"] = counts.get("other", 0) + 1
            return []
        if symbol not in self.only:
            raise InputError(f"data for {symbol}, which is not among --symbols {','.join(sorted(self.only))}",
                             source=where(self.path, line_no))
        price, qty = self.grids[symbol]
        data = obj["data"]
        stamp = self.clock.stamp
        if kind != "orderbook":
            parsed = []
            for trade in data:
                trade_id = trade.get("i", "0")
                parsed.append((int(trade["T"]), price.steps(trade["p"]), qty.steps(trade["v"]),
                               "BUY" if trade["S"] == "Buy" else "SELL",
                               int(trade_id) if str(trade_id).isdigit() else 0))
            counts["trade"] = counts.get("trade", 0) + len(parsed)
            return [TradePrint(symbol, stamp(local_ns, exch, line_no), exch, px, size, side, tid)
                    for exch, px, size, side, tid in parsed]
        if self.book_topic.get(symbol, topic) != topic:
            counts["other"] = counts.get("other", 0) + 1
            return []
        exch = int(obj.get("cts") or obj["ts"])
        update_id = int(data["u"])
        bids, asks = _levels(data["b"], price, qty), _levels(data["a"], price, qty)
        snapshot = obj["type"] == "snapshot" or update_id == 1
        self.book_topic.setdefault(symbol, topic)
        eff = stamp(local_ns, exch, line_no)
        if snapshot:
            counts["snapshot"] = counts.get("snapshot", 0) + 1
            return [BookSnapshot(symbol, eff, exch, bids, asks, update_id)]
        counts["depth_diff"] = counts.get("depth_diff", 0) + 1
        return [BookDelta(symbol, eff, exch, bids, asks, update_id, update_id, -1)]


def parse(stats: FileStats, grids: Mapping[str, tuple[Grid, Grid]], clock: FeedClock,
          only: frozenset[str]) -> Iterator[MarketEvent]:
    path = stats.path
    parser = BybitLineParser(stats, grids, clock, only)
    line_events = parser.events
    for line_no, line, complete in iter_lines(path):
        stats.lines = line_no
        try:
            events = line_events(line_no, line)
        except InputError:
            raise
        except OffGridError as exc:
            raise off_grid_error(path, line_no, exc) from None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError) as exc:
            torn_or_raise(stats, line_no, complete, exc)
            continue
        yield from events


PARSE_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError, OffGridError)
