"""Bybit V5 public captures and the Bybit book rules, on hand-built lines shaped like the V5 fixtures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mmexec.errors import InputError
from mmexec.marketdata.book import INVALID, SYNCED, OrderBook
from mmexec.marketdata.events import BookDelta, BookSnapshot, TradePrint
from mmexec.marketdata.instruments import load_bybit_instruments, parse_override, resolve_instruments
from mmexec.marketdata.merge import open_captures
from tests.replay_support import FIXTURES, write

TS = 1_709_891_679_000


def book(kind: str, u: int, ms: int, bids: list[list[str]], asks: list[list[str]]) -> dict[str, Any]:
    return {"topic": "orderbook.50.BTCUSDT", "type": kind, "ts": TS + ms, "cts": TS + ms - 1,
            "data": {"s": "BTCUSDT", "b": bids, "a": asks, "u": u, "seq": u * 10}}


def public_trade(ms: int, side: str, price: str, qty: str) -> dict[str, Any]:
    shape = json.loads((FIXTURES / "bybit" / "v5" / "ws_public_trade.json").read_text())
    shape["data"][0].update({"T": TS + ms, "S": side, "p": price, "v": qty})
    shape["ts"] = TS + ms
    return shape  # type: ignore[no-any-return]


def capture(tmp_path: Path, messages: list[dict[str, Any]], prefix: bool = False) -> Path:
    lines = [json.dumps(m) for m in messages]
    if prefix:
        lines = [f"{(TS + 5 + i) * 1_000_000} {line}" for i, line in enumerate(lines)]
    return write(tmp_path / "bybit.txt", lines)


MESSAGES = [
    book("snapshot", 100, 0, [["27450.0", "1.000"], ["27449.9", "2.000"]], [["27450.1", "0.500"]]),
    book("delta", 101, 10, [["27450.0", "0.400"]], [["27450.1", "0"], ["27450.2", "1.5"]]),
    public_trade(20, "Sell", "27450.0", "0.010"),
    book("delta", 103, 30, [["27450.0", "0.300"]], []),  # u 102 missing: a gap
    book("delta", 1, 40, [["27450.0", "0.900"]], [["27450.3", "0.100"]]),  # u == 1: a fresh snapshot
]


def test_bybit_events_and_exchange_time(tmp_path: Path) -> None:
    source = open_captures([capture(tmp_path, MESSAGES)])
    assert (source.venue, source.symbols) == ("bybit", ["BTCUSDT"])
    evs = list(source.events())
    assert [type(e).__name__ for e in evs] == ["BookSnapshot", "BookDelta", "TradePrint", "BookDelta",
                                               "BookSnapshot"]
    snap, delta, trade = evs[0], evs[1], evs[2]
    assert isinstance(snap, BookSnapshot) and snap.exch_ms == TS - 1  # cts, the matching engine's time
    assert isinstance(delta, BookDelta) and delta.asks == [(274501, 0), (274502, 1500)]
    assert isinstance(trade, TradePrint) and (trade.aggressor_side, trade.qty, trade.exch_ms) == ("SELL", 10, TS + 20)


def test_bybit_receive_time_prefix(tmp_path: Path) -> None:
    source = open_captures([capture(tmp_path, MESSAGES, prefix=True)])
    evs = list(source.events())
    assert evs[0].local_ns == (TS + 5) * 1_000_000
    assert source.latency()["samples"] == len(MESSAGES)


def test_bybit_book_rules_gap_and_reset(tmp_path: Path) -> None:
    ob = OrderBook("BTCUSDT")
    for ev in open_captures([capture(tmp_path, MESSAGES)]).events():
        if isinstance(ev, BookSnapshot):
            ob.apply_snapshot(ev)
        elif isinstance(ev, BookDelta):
            ob.apply_delta(ev)
            if ev.last_id == 103:
                assert (ob.state, ob.gaps) == (INVALID, 1)
    assert (ob.state, ob.resyncs, ob.snapshots) == (SYNCED, 1, 2)
    assert (ob.bid, ob.bid_qty, ob.ask) == (274500, 900, 274503)


def test_bybit_instruments_file_and_precedence() -> None:
    specs = load_bybit_instruments(FIXTURES / "bybit" / "v5" / "http_get_instruments_linear.json")
    assert specs["ETHUSDT"].tick_size == Decimal("0.05") and specs["ETHUSDT"].lot_size == Decimal("0.01")
    override = {"ETHUSDT": parse_override("ETHUSDT=0.01/0.001")}
    chosen = resolve_instruments("bybit", ["BTCUSDT", "ETHUSDT", "XRPUSDT"], override, specs)
    assert chosen["ETHUSDT"].tick_size == Decimal("0.01")  # --instrument wins
    assert chosen["BTCUSDT"].tick_size == Decimal("0.5")  # the file over the built-in table
    assert chosen["XRPUSDT"].source.startswith("built-in")


def test_bybit_inverse_is_out_of_scope(tmp_path: Path) -> None:
    msg = book("snapshot", 1, 0, [["1.0", "1"]], [["1.1", "1"]])
    msg["topic"] = "orderbook.50.BTCUSD"
    with pytest.raises(InputError, match="out of scope"):
        open_captures([capture(tmp_path, [msg])])


def test_bybit_off_grid_price_names_the_line(tmp_path: Path) -> None:
    off_grid = [*MESSAGES[:1], book("delta", 101, 10, [["27450.05", "0.400"]], [])]
    with pytest.raises(InputError, match=r"off the instrument grid.*27450.05.*--instrument.*\(bybit.txt line 2\)"):
        list(open_captures([capture(tmp_path, off_grid)]).events())
