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


def parse(stats: FileStats, grids: Mapping[str, tuple[Grid, Grid]], clock: FeedClock,
          only: frozenset[str]) -> Iterator[MarketEvent]:
    path = stats.path
    counts = stats.messages
    book_topic: dict[str, str] = {}
    stamp = clock.stamp
    for line_no, line, complete in iter_lines(path):
        stats.lines = line_no
        try:
            local_ns, body = split_receive_time(line)
            obj: dict[str, Any] = orjson.loads(body)
            topic = obj["topic"]
            kind, symbol = _topic_symbol(topic)
            if kind not in ("orderbook", "publicTrade", "trade"):
                counts["other"] = counts.get("other", 0) + 1
                continue
            if symbol not in only:
                raise InputError(f"data for {symbol}, which is not among --symbols {','.join(sorted(only))}",
                                 source=where(path, line_no))
            price, qty = grids[symbol]
            data = obj["data"]
            if kind != "orderbook":
                for trade in data:
                    exch = int(trade["T"])
                    counts["trade"] = counts.get("trade", 0) + 1
                    trade_id = trade.get("i", "0")
                    yield TradePrint(symbol, stamp(local_ns, exch, line_no), exch, price.steps(trade["p"]),
                                     qty.steps(trade["v"]), "BUY" if trade["S"] == "Buy" else "SELL",
                                     int(trade_id) if str(trade_id).isdigit() else 0)
                continue
            if book_topic.setdefault(symbol, topic) != topic:
                counts["other"] = counts.get("other", 0) + 1
                continue
            exch = int(obj.get("cts") or obj["ts"])
            eff = stamp(local_ns, exch, line_no)
            update_id = int(data["u"])
            bids, asks = _levels(data["b"], price, qty), _levels(data["a"], price, qty)
            if obj["type"] == "snapshot" or update_id == 1:
                counts["snapshot"] = counts.get("snapshot", 0) + 1
                yield BookSnapshot(symbol, eff, exch, bids, asks, update_id)
            else:
                counts["depth_diff"] = counts.get("depth_diff", 0) + 1
                yield BookDelta(symbol, eff, exch, bids, asks, update_id, update_id, -1)
        except InputError:
            raise
        except OffGridError as exc:
            raise off_grid_error(path, line_no, exc) from None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError) as exc:
            torn_or_raise(stats, line_no, complete, exc)
