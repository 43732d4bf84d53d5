"""Builders of tiny hand-made market captures for the replay tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BTC = FIXTURES / "market" / "binance-usdm" / "btcusdt_20240808.gz"
ETH = FIXTURES / "market" / "binance-usdm" / "ethusdt_20240808.gz"
XRP = FIXTURES / "bybit" / "replay" / "xrpusdt-ob500.data.zip"
T0 = 1_723_161_256_000  # ms


def snapshot(ms: int, lid: int, bids: list[list[str]], asks: list[list[str]]) -> dict[str, Any]:
    return {"lastUpdateId": lid, "E": T0 + ms, "T": T0 + ms, "bids": bids, "asks": asks}


def depth(ms: int, first: int, last: int, prev: int, bids: list[list[str]], asks: list[list[str]],
          symbol: str = "BTCUSDT") -> dict[str, Any]:
    return {"stream": f"{symbol.lower()}@depth@0ms", "data": {
        "e": "depthUpdate", "E": T0 + ms, "T": T0 + ms, "s": symbol, "U": first, "u": last, "pu": prev,
        "b": bids, "a": asks}}


def bbo(ms: int, bid: str, bid_qty: str, ask: str, ask_qty: str, symbol: str = "BTCUSDT") -> dict[str, Any]:
    return {"stream": f"{symbol.lower()}@bookTicker", "data": {
        "e": "bookTicker", "u": 1, "s": symbol, "b": bid, "B": bid_qty, "a": ask, "A": ask_qty,
        "T": T0 + ms, "E": T0 + ms}}


def trade(ms: int, price: str, qty: str, buyer_maker: bool, tid: int = 1, symbol: str = "BTCUSDT") -> dict[str, Any]:
    return {"stream": f"{symbol.lower()}@trade", "data": {
        "e": "trade", "E": T0 + ms, "T": T0 + ms, "s": symbol, "t": tid, "p": price, "q": qty, "X": "MARKET",
        "m": buyer_maker}}


def lines(messages: list[tuple[int, dict[str, Any]]]) -> list[str]:
    """``<ns> <json>`` lines; each message is (receive ms, message)."""
    return [f"{(T0 + ms) * 1_000_000} {json.dumps(msg, separators=(',', ':'))}" for ms, msg in messages]


def write(path: Path, text_lines: list[str], *, compress: bool = False, newline_at_end: bool = True) -> Path:
    data = ("\n".join(text_lines) + ("\n" if newline_at_end else "")).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def simple_capture() -> list[tuple[int, dict[str, Any]]]:
    """A BTCUSDT capture: snapshot (bid 61800.0 x 0.005, ask 61800.1 x 0.004), quotes, then trades."""
    return [
        (0, snapshot(0, 100, [["61800.0", "0.005"], ["61799.9", "0.010"]], [["61800.1", "0.004"], ["61800.2", "0.2"]])),
        (1, bbo(1, "61800.0", "0.005", "61800.1", "0.004")),
        (150, depth(150, 101, 101, 100, [["61800.0", "0.006"]], [])),
        (400, trade(400, "61800.0", "0.008", True, 1)),
        (450, trade(450, "61800.1", "0.100", False, 2)),
        (700, trade(700, "61799.9", "0.050", True, 3)),
        (1_000, bbo(1_000, "61799.9", "0.010", "61800.0", "0.050")),
    ]


def troubled_capture() -> list[tuple[int, dict[str, Any]]]:
    """A BTCUSDT capture with a sequence gap at 300 ms, a resync at 600 ms and a crossed touch at 700 ms."""
    return [
        (0, snapshot(0, 100, [["61800.0", "0.005"]], [["61800.1", "0.004"]])),
        (1, bbo(1, "61800.0", "0.005", "61800.1", "0.004")),
        (150, depth(150, 101, 101, 100, [["61800.0", "0.006"]], [])),
        (300, depth(300, 105, 105, 104, [["61799.9", "0.001"]], [])),  # pu 104 != 101: a gap
        (600, snapshot(600, 200, [["61800.0", "0.005"]], [["61800.1", "0.004"]])),  # the resync
        (700, bbo(700, "61800.2", "0.001", "61800.1", "0.004")),  # bid above ask: crossed
        (800, bbo(800, "61800.0", "0.005", "61800.1", "0.004")),
        (2_500, trade(2_500, "61800.0", "0.001", True, 1)),
    ]
