"""The replay driver end to end on hand-built captures and the real ones: fills explained by the data."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mmexec.canonical import dumps
from mmexec.engine.market import Instrument
from mmexec.engine.strategy import QuotingPolicy
from mmexec.errors import InputError
from mmexec.marketdata.book import OrderBook
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, TradePrint
from mmexec.marketdata.merge import open_captures
from mmexec.run.builder import build_run
from mmexec.run.spec import RunSpec
from tests.replay_support import BTC, ETH, XRP, lines, simple_capture, trade, write

UTC = "2025-01-01T00:00:00Z"


def replay(*paths: Path, record: bool = False, **options: Any) -> dict[str, Any]:
    spec = RunSpec.from_settings({"market": "replay", "data": paths, **options}, strict=True)
    run = build_run(spec, utc=UTC, config_sources={})
    assert run.replay is not None
    if record:
        run.replay.venue.fill_log = []
    run.drive()
    report = dict(run.result().to_report())
    if record:
        report["_fill_log"] = run.replay.venue.fill_log
    return report


def test_simple_capture_known_answer(tmp_path: Path) -> None:
    # Quote at 100 ms: bid 61800.0 / ask 61800.1 (5 lots each), arriving at 200. By then the diff at 150 shows
    # 6 lots at the bid: the buy joins behind 6, the sell behind 4. 400: a sell of 8 at the bid fills 2 lots;
    # 450: a buy of 100 at the ask fills all 5; 700: a sell through the bid fills the other 3. A new buy
    # (quoted at 800, arriving at 900) is filled when the best ask drops onto it at 1000.
    path = write(tmp_path / "c.txt", lines(simple_capture()))
    report = replay(path, order_qty=Decimal("0.005"), edge_threshold=Decimal(-1000), fee_maker_bps=Decimal(0),
                    latency_ms=100, response_latency_ms=10)
    queue = report["queue"]
    assert queue["fills_by"] == {"trade": 2, "trade_through": 1, "cross": 1}
    assert queue["orders_joined"] == 4
    assert queue["mean_queue_ahead_lots"] == Decimal("5.000")  # (6 + 4 + 4 + 6) / 4
    assert queue["post_only_rejects"] == 0
    assert report["orders"]["fills"] == 4
    assert report["orders"]["partial_fills"] == 1
    assert report["positions"]["by_symbol"]["BTCUSDT"] == Decimal("0.005")
    assert report["market"]["snapshots"] == 1 and report["market"]["gaps"] == 0
    assert report["recon"]["ok"] is True


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "c.txt", lines(simple_capture()))
    assert dumps(replay(path)) == dumps(replay(path))


def test_no_snapshot_builds_from_the_bbo_stream(tmp_path: Path) -> None:
    msgs = [m for m in simple_capture() if "stream" in m[1]]
    report = replay(write(tmp_path / "c.txt", lines(msgs)), edge_threshold=Decimal(-1000))
    assert report["market"]["snapshots"] == 0
    assert report["market"]["books_without_snapshot"] == 1
    assert report["orders"]["placed"] > 0


def test_neither_snapshot_nor_bbo_is_an_error(tmp_path: Path) -> None:
    msgs = [(400, trade(400, "61800.0", "0.008", True))]
    with pytest.raises(InputError, match="no depth snapshot and no best bid/offer stream"):
        replay(write(tmp_path / "c.txt", lines(msgs)))


def test_replay_quotes_use_the_engine_policy_and_never_cross_the_touch() -> None:
    """The replay quotes through the engine's QuotingPolicy (never_cross: post-only quotes stay passive)."""
    inst = Instrument("BTCUSDT", Decimal("100.0"), Decimal("0.1"), Decimal("1"), Decimal("1"))

    def targets(offset: int, skew: int, position: int) -> tuple[int, int]:
        policy = QuotingPolicy(quote_offset_ticks=offset, skew_bps=Decimal(skew), max_inventory_usd=Decimal(10_000),
                               never_cross=True)
        return policy.targets(inst, 1000, 1001, Decimal(position))

    assert targets(0, 10, 0) == (1000, 1001)
    assert targets(3, 0, 0) == (997, 1004)
    # long 50 at mid 100.05: half of max_inv; skew 40 bps -> 2.001 ticks, the bid rounds down (passive side),
    # the ask would cross the bid and is pinned at bid + 1
    assert targets(0, 40, 50) == (997, 1001)
    assert targets(0, 1000, 50) == (949, 1001)
    assert targets(0, 40, -50) == (1000, 1004)  # short: quotes move up, the bid pinned at ask - 1


def test_skew_keeps_the_inventory_smaller(tmp_path: Path) -> None:
    path = ETH
    flat = replay(path, edge_threshold=Decimal(-10_000), max_inv=Decimal(5_000))
    skewed = replay(path, edge_threshold=Decimal(-10_000), max_inv=Decimal(5_000), skew_bps=Decimal(5))
    assert abs(skewed["positions"]["by_symbol"]["ETHUSDT"]) <= abs(flat["positions"]["by_symbol"]["ETHUSDT"])
    assert skewed["config"]["skew_bps"] == Decimal(5)


def test_kill_switch_freezes_on_adverse_markouts() -> None:
    report = replay(BTC, order_qty=Decimal("0.016"), edge_threshold=Decimal("1.5"))
    assert report["risk"]["frozen"] is True
    assert report["risk"]["last_freeze_reason"] == "Edge below threshold"
    assert report["markout"]["edge"]["updates"] >= 1


Trades = dict[tuple[str, int], list[tuple[int, str, int]]]
Tops = dict[tuple[str, int], list[tuple[int, int]]]


def _touches(path: Path) -> tuple[Trades, Tops]:
    """Independent look at the data: trades and the touch (bid, ask) after each event, by exchange ms."""
    source = open_captures([path])
    books: dict[str, OrderBook] = {}
    trades: Trades = defaultdict(list)
    tops: Tops = defaultdict(list)
    for ev in source.events():
        book = books.setdefault(ev.symbol, OrderBook(ev.symbol))
        if isinstance(ev, TradePrint):
            trades[ev.symbol, ev.exch_ms].append((ev.price, ev.aggressor_side, ev.qty))
            continue
        if isinstance(ev, BookSnapshot):
            book.apply_snapshot(ev)
        elif isinstance(ev, BookDelta):
            book.apply_delta(ev)
        elif isinstance(ev, BestBidAsk):
            book.apply_bbo(ev)
        tops[ev.symbol, ev.exch_ms].append((book.bid, book.ask))
    return trades, tops


@pytest.mark.parametrize("queue_model", ["risk-averse", "proportional"])
@pytest.mark.parametrize("path", [BTC, ETH], ids=["btc", "eth"])
def test_every_fill_is_explained_by_the_data(path: Path, queue_model: str) -> None:
    report = replay(path, record=True, order_qty=Decimal("0.016"), edge_threshold=Decimal(-1000),
                    queue_model=queue_model)
    fill_log = report["_fill_log"]
    assert len(fill_log) > 50
    trades, tops = _touches(path)
    filled: dict[tuple[str, bool, int], int] = defaultdict(int)
    for symbol, is_buy, px, lots, at_ms, why, arrive_ms in fill_log:
        assert at_ms >= arrive_ms, "a fill before the order reached the venue"
        if why == "cross":
            assert any((ask <= px) if is_buy else (bid >= px) for bid, ask in tops[symbol, at_ms])
        else:
            assert any(
                side == ("SELL" if is_buy else "BUY") and ((price <= px) if is_buy else (price >= px))
                for price, side, _ in trades[symbol, at_ms]
            )
        filled[symbol, is_buy, px] += lots
    # per price and side: fills never exceed the quantity traded at or through that price
    for (symbol, is_buy, px), lots in filled.items():
        traded = sum(qty for (sym, _), prints in trades.items() if sym == symbol for price, side, qty in prints
                     if side == ("SELL" if is_buy else "BUY") and ((price <= px) if is_buy else (price >= px)))
        assert lots <= traded


def test_bybit_capture_replays() -> None:
    report = replay(XRP, edge_threshold=Decimal(-1000))
    assert report["market"]["venue"] == "bybit"
    assert report["market"]["messages"] == {"depth_diff": 49, "snapshot": 1}
    assert report["market"]["gaps"] == 0
