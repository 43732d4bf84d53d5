"""The replay venue with hand-built events and known answers (queue position, latency, post-only, gaps)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import PlaceOrderRequest, Side
from mmexec.exchanges.queue import BY_CROSS, BY_TRADE, BY_TRADE_THROUGH, QueueVenue
from mmexec.marketdata.book import INVALID, SYNCED, OrderBook
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, TradePrint

SYM = "BTCUSDT"
TICK, LOT = Decimal("0.1"), Decimal("0.001")


def make(queue_model: str = "risk-averse", latency: int = 10, response: int = 5) -> tuple[QueueVenue, OrderBook]:
    book = OrderBook(SYM)
    venue = QueueVenue({SYM: book}, {SYM: (TICK, LOT)}, clock=VirtualClock(0), latency_ms=latency,
                       response_latency_ms=response, queue_model=queue_model, record_fills=True)
    # bid 100.0 (5 lots), 99.9 (7); ask 100.1 (4), 100.2 (9); update id 10
    venue.on_market(BookSnapshot(SYM, 0, 0, [(1000, 5), (999, 7)], [(1001, 4), (1002, 9)], 10))
    return venue, book


def place(venue: QueueVenue, side: Side, ticks: int, lots: int, coid: str = "C1") -> str:
    resp = venue.place_limit(PlaceOrderRequest(coid, SYM, side, lots * LOT, ticks * TICK))
    assert resp.success and resp.order_id
    return resp.order_id


def trade(ms: int, ticks: int, lots: int, aggressor: str = "SELL") -> TradePrint:
    return TradePrint(SYM, ms * 1_000_000, ms, ticks, lots, aggressor, ms)


def fills(venue: QueueVenue) -> list[tuple[int, str]]:
    assert venue.fill_log is not None
    return [(lots, why) for _, _, _, lots, _, why, _ in venue.fill_log]


def test_queue_ahead_is_consumed_by_trades_then_partial_and_full_fill() -> None:
    venue, _ = make()
    place(venue, Side.BUY, 1000, 3)  # behind 5 lots
    venue.on_market(trade(20, 1000, 4))  # arrives (t=10) before this trade: ahead 5 -> 1
    assert fills(venue) == []
    venue.on_market(trade(21, 1000, 2))  # 1 ahead, 1 fills
    assert fills(venue) == [(1, BY_TRADE)]
    venue.on_market(trade(22, 1000, 9))  # the other 2 (never more than the order)
    assert fills(venue) == [(1, BY_TRADE), (2, BY_TRADE)]
    assert venue.queue_section()["mean_queue_ahead_lots"] == Decimal("5.000")


def test_fills_reach_the_strategy_after_the_response_latency() -> None:
    venue, _ = make(response=5)
    place(venue, Side.BUY, 1000, 1)
    venue.on_market(trade(20, 999, 1))  # through the price
    assert venue.next_fill_ms() == 25
    venue.clock.advance_to(24)
    assert list(venue.stream_fills()) == []
    venue.clock.advance_to(25)
    (fill,) = list(venue.stream_fills())
    assert (fill.qty, fill.price, fill.timestamp_ms, fill.is_maker) == (LOT, Decimal("100.0"), 20, True)


def test_trade_through_the_price_fills_the_rest() -> None:
    venue, _ = make()
    place(venue, Side.SELL, 1001, 6)
    venue.on_market(trade(20, 1002, 1, "BUY"))
    assert fills(venue) == [(6, BY_TRADE_THROUGH)]


def test_trades_of_the_same_side_never_fill() -> None:
    venue, _ = make()
    place(venue, Side.BUY, 1000, 1)
    venue.on_market(trade(20, 999, 50, "BUY"))
    assert fills(venue) == []


def test_opposite_best_crossing_the_price_fills() -> None:
    venue, _ = make()
    place(venue, Side.BUY, 1000, 2)
    venue.on_market(trade(20, 1000, 0))  # arrival
    venue.on_market(BestBidAsk(SYM, 30_000_000, 30, 999, 3, 1000, 2))
    assert fills(venue) == [(2, BY_CROSS)]


def test_post_only_order_crossing_on_arrival_is_rejected() -> None:
    venue, _ = make(response=5)
    place(venue, Side.BUY, 1001, 1, "C9")  # the ask is 100.1: it would take liquidity
    venue.on_market(trade(20, 1002, 1, "BUY"))
    assert venue.post_only_rejects == 1
    assert fills(venue) == []
    venue.clock.advance_to(15)  # arrival 10 + response 5
    assert venue.take_rejects() == ["C9"]


def test_latency_keeps_an_order_from_a_trade_printed_before_it_arrived() -> None:
    venue, _ = make(latency=10)
    place(venue, Side.BUY, 1000, 1)  # sent at 0, arrives at 10
    venue.on_market(trade(9, 999, 100))  # through the price, but before arrival
    assert fills(venue) == []
    venue.on_market(trade(10, 999, 1))
    assert fills(venue) == [(1, BY_TRADE_THROUGH)]


def test_gap_invalidates_the_book_until_the_next_snapshot() -> None:
    venue, book = make()
    place(venue, Side.BUY, 1000, 1)
    venue.on_market(BookDelta(SYM, 11_000_000, 11, [(1000, 6)], [], 9, 11, 10))  # chained: U <= 10 <= u
    assert book.state == SYNCED
    venue.on_market(BookDelta(SYM, 12_000_000, 12, [(1000, 7)], [], 13, 14, 12))  # pu 12 != 11: gap
    assert (book.state, book.gaps, book.tradable) == (INVALID, 1, False)
    venue.on_market(trade(13, 999, 5))
    assert fills(venue) == []  # nothing fills on an invalid book
    venue.on_market(BookDelta(SYM, 14_000_000, 14, [(1000, 7)], [], 15, 15, 14))
    assert book.state == INVALID
    venue.on_market(BookSnapshot(SYM, 15_000_000, 15, [(1000, 2)], [(1001, 4)], 20))
    assert (book.state, book.resyncs) == (SYNCED, 1)
    venue.on_market(trade(16, 999, 1))
    assert fills(venue) == [(1, BY_TRADE_THROUGH)]


@pytest.mark.parametrize(("model", "ahead_after"), [("risk-averse", 5), ("proportional", 3)])
def test_unexplained_depth_decrease_by_queue_model(model: str, ahead_after: int) -> None:
    venue, _ = make(model)
    place(venue, Side.BUY, 1000, 1)
    venue.on_market(trade(11, 1000, 0))  # arrival: 10 lots... ahead = 5
    venue.on_market(BookDelta(SYM, 12_000_000, 12, [(1000, 10)], [], 11, 11, 10))  # 5 -> 10 (others join behind)
    # 10 -> 6: 4 lots canceled, none traded; proportional: ahead 5 - 5*4//10 = 3
    venue.on_market(BookDelta(SYM, 13_000_000, 13, [(1000, 6)], [], 12, 12, 11))
    (order,) = venue._resting[SYM]
    assert order.ahead == ahead_after


def test_depth_decrease_explained_by_trades_does_not_move_the_queue_twice() -> None:
    venue, _ = make("proportional")
    place(venue, Side.BUY, 1000, 1)
    venue.on_market(trade(11, 1000, 2))  # arrival, then 2 traded ahead: 5 -> 3
    venue.on_market(BookDelta(SYM, 12_000_000, 12, [(1000, 3)], [], 11, 11, 10))  # the book shows the trade
    (order,) = venue._resting[SYM]
    assert order.ahead == 3


def test_queue_ahead_never_exceeds_the_displayed_quantity() -> None:
    venue, _ = make("risk-averse")
    place(venue, Side.BUY, 1000, 1)
    venue.on_market(trade(11, 1000, 0))
    venue.on_market(BookDelta(SYM, 12_000_000, 12, [(1000, 2)], [], 11, 11, 10))
    (order,) = venue._resting[SYM]
    assert order.ahead == 2


def test_cancel_racing_an_undelivered_fill_fails() -> None:
    venue, _ = make(response=50)
    order_id = place(venue, Side.BUY, 1000, 4)
    venue.on_market(trade(11, 1000, 6))  # 1 lot fills; in flight until 61
    assert venue.cancel(order_id) is False
    assert venue.cancel_races == 1
    venue.clock.advance_to(61)
    assert len(list(venue.stream_fills())) == 1
    assert venue.cancel(order_id) is True


def test_unknown_level_without_snapshot_joins_first_in_line() -> None:
    book = OrderBook(SYM)
    venue = QueueVenue({SYM: book}, {SYM: (TICK, LOT)}, clock=VirtualClock(0), latency_ms=0,
                       response_latency_ms=0, record_fills=True)
    venue.on_market(BestBidAsk(SYM, 0, 0, 1000, 5, 1002, 3))
    place(venue, Side.BUY, 999, 1)  # below the best bid: a level never seen
    venue.on_market(trade(1, 999, 1))
    assert venue.joined_unknown == 1
    assert fills(venue) == [(1, BY_TRADE)]


_event = st.one_of(
    st.tuples(st.just("trade"), st.integers(997, 1004), st.integers(0, 8), st.sampled_from(["BUY", "SELL"])),
    st.tuples(st.just("level"), st.integers(998, 1003), st.integers(0, 12), st.booleans()),
    st.tuples(st.just("order"), st.integers(998, 1003), st.integers(1, 5), st.booleans()),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_event, max_size=40), st.sampled_from(["risk-averse", "proportional"]))
def test_queue_invariants(script: list[tuple[str, int, int, object]], model: str) -> None:
    venue, book = make(model, latency=1, response=1)
    update_id, traded, n = 10, 0, 0
    for ms, (kind, px, qty, flag) in enumerate(script, start=1):
        if kind == "trade":
            venue.on_market(trade(ms, px, qty, str(flag)))
            traded += qty
        elif kind == "level":
            side = [(px, qty)]
            update_id += 1
            venue.on_market(BookDelta(SYM, ms * 1_000_000, ms, side if flag else [], [] if flag else side,
                                      update_id, update_id, update_id - 1))
        else:
            n += 1
            place(venue, Side.BUY if flag else Side.SELL, px, qty, f"C{n}")
        for order in venue._resting[SYM]:
            assert 0 <= order.filled <= order.lots
            assert order.ahead >= 0
            shown = book.qty_at(order.is_buy, order.ticks)
            assert shown is None or order.ahead <= shown
    assert venue.fill_log is not None
    assert all(lots > 0 for _, _, _, lots, _, _, _ in venue.fill_log)
    by_trade = sum(lots for _, _, _, lots, _, why, _ in venue.fill_log if why == BY_TRADE)
    assert by_trade <= traded  # queue fills come out of printed volume
