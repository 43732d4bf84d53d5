"""The L2 book: Binance USD-M and spot sequencing, the pre-snapshot buffer, the touch, crossed books."""

from __future__ import annotations

from pathlib import Path

from mmexec.marketdata.book import INVALID, PARTIAL, SYNCED, OrderBook
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot
from mmexec.marketdata.merge import open_captures
from tests.replay_support import T0, write

S = "BTCUSDT"


def delta(first: int, last: int, prev: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]] = (),  # type: ignore[assignment]
          ms: int = 1) -> BookDelta:
    return BookDelta(S, ms * 1_000_000, ms, list(bids), list(asks), first, last, prev)


def snap(update_id: int, ms: int = 0) -> BookSnapshot:
    return BookSnapshot(S, ms * 1_000_000, ms, [(100, 5), (99, 3)], [(101, 4), (102, 6)], update_id)


def test_usdm_first_diff_must_straddle_the_snapshot_then_chain_on_pu() -> None:
    ob = OrderBook(S)
    ob.apply_snapshot(snap(10))
    assert ob.apply_delta(delta(5, 9, 4, [(100, 1)])) is False  # u < lastUpdateId: covered by the snapshot
    assert ob.apply_delta(delta(8, 12, 7, [(100, 7)])) is True  # U <= 10 <= u
    assert ob.apply_delta(delta(13, 15, 12, [(99, 0)])) is True  # pu == previous u
    assert (ob.bids, ob.state) == ({100: 7}, SYNCED)
    assert ob.apply_delta(delta(17, 18, 16, [(100, 1)])) is False  # pu 16 != 15
    assert (ob.state, ob.gaps, ob.tradable) == (INVALID, 1, False)


def test_spot_rule_without_pu() -> None:
    ob = OrderBook(S)
    ob.apply_snapshot(snap(10))
    assert ob.apply_delta(delta(9, 10, -1, [(100, 1)])) is False  # u <= lastUpdateId
    assert ob.apply_delta(delta(11, 12, -1, [(100, 2)])) is True  # U <= 11 <= u
    assert ob.apply_delta(delta(13, 13, -1, [(100, 3)])) is True  # U == previous u + 1
    assert ob.apply_delta(delta(15, 16, -1, [(100, 4)])) is False
    assert ob.state == INVALID


def test_diffs_before_the_snapshot_are_replayed_onto_it() -> None:
    ob = OrderBook(S)
    ob.apply_delta(delta(5, 9, 4, [(100, 1)]))  # older than the snapshot: dropped on replay
    ob.apply_delta(delta(10, 12, 9, [], [(101, 0), (103, 2)], ms=2))  # straddles lastUpdateId 11
    assert ob.state == PARTIAL
    ob.apply_snapshot(snap(11, ms=3))
    assert ob.state == SYNCED and ob.last_id == 12
    assert ob.bids == {100: 5, 99: 3} and ob.asks == {102: 6, 103: 2}
    assert (ob.bid, ob.ask, ob.ask_qty) == (100, 102, 6)


def test_best_level_deleted_walks_to_the_next() -> None:
    ob = OrderBook(S)
    ob.apply_snapshot(snap(10))
    ob.apply_delta(delta(11, 11, 10, [(100, 0)], [(101, 0)]))
    assert (ob.best_bid, ob.best_ask) == (99, 102)
    ob.apply_delta(delta(12, 12, 11, [(99, 0)], [(102, 0)]))
    assert (ob.best_bid, ob.best_ask, ob.tradable) == (0, 0, False)


def test_touch_is_the_freshest_source_and_crossing_is_counted_once() -> None:
    ob = OrderBook(S)
    ob.apply_snapshot(snap(10, ms=5))
    ob.apply_bbo(BestBidAsk(S, 0, 4, 90, 1, 91, 1))  # older than the book: ignored
    assert (ob.bid, ob.ask) == (100, 101)
    ob.apply_bbo(BestBidAsk(S, 0, 6, 101, 1, 101, 1))
    ob.apply_bbo(BestBidAsk(S, 0, 7, 102, 1, 101, 1))
    assert (ob.crossed, ob.crossed_events, ob.tradable) == (True, 1, False)
    ob.apply_bbo(BestBidAsk(S, 0, 8, 100, 1, 101, 1))
    assert (ob.crossed, ob.tradable) == (False, True)


def test_spot_capture_parses_and_syncs(tmp_path: Path) -> None:
    # Binance spot: no pu, the snapshot has no E, bookTicker has no E / T
    lines = [
        f'{(T0 + 1) * 1_000_000} {{"lastUpdateId": 10, "bids": [["61800.00", "0.50000"]], '
        '"asks": [["61800.01", "0.20000"]]}',
        f'{(T0 + 2) * 1_000_000} {{"stream": "btcusdt@depth@100ms", "data": {{"e": "depthUpdate", "E": {T0 + 2}, '
        f'"s": "BTCUSDT", "U": 11, "u": 12, "b": [["61800.00", "0.40000"]], "a": []}}}}',
        f'{(T0 + 3) * 1_000_000} {{"stream": "btcusdt@bookTicker", "data": {{"u": 13, "s": "BTCUSDT", '
        f'"b": "61800.00", "B": "0.40000", "a": "61800.01", "A": "0.20000"}}}}',
    ]
    source = open_captures([write(tmp_path / "spot.txt", lines)])
    assert source.venue == "binance-spot"
    ob = OrderBook(S)
    for ev in source.events():
        if isinstance(ev, BookSnapshot):
            ob.apply_snapshot(ev)
        elif isinstance(ev, BookDelta):
            assert ob.apply_delta(ev)
        elif isinstance(ev, BestBidAsk):
            assert ev.exch_ms == T0 + 3  # the receive time stands in
            ob.apply_bbo(ev)
    assert (ob.state, ob.bid, ob.bid_qty) == (SYNCED, 6180000, 40000)
