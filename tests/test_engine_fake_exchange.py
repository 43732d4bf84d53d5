"""FakeExchangeClient: a deterministic venue on virtual time; per-order fates from (seed, client order id)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mmexec.compat import FakeExchangeClient
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import FillEvent, OpenOrder, OrderState, PlaceOrderRequest, Position, Side
from mmexec.exchanges.base import ExecutionTotals, IExchangeClient
from mmexec.exchanges.fake import REJECT_MESSAGE
from mmexec.exchanges.outcomes import order_uniforms
from mmexec.exchanges.scheduling import FillScheduler, first_part_quarters, plan_fill_lots

D = Decimal


def _req(n: int, symbol: str = "BTCUSDT", side: Side = Side.BUY, qty: str = "0.02", price: str = "50000.0"
         ) -> PlaceOrderRequest:
    return PlaceOrderRequest(f"CLI{n:08d}", symbol, side, qty, price)


def _venue(**kwargs: object) -> tuple[FakeExchangeClient, VirtualClock]:
    clock = VirtualClock(1_000)
    params: dict[str, object] = {"fill_rate": 1.0, "reject_rate": 0.0, "latency_ms": 100, "seed": 1}
    params.update(kwargs)
    return FakeExchangeClient(**params, clock=clock), clock  # type: ignore[arg-type]


def test_implements_the_exchange_protocol() -> None:
    venue = FakeExchangeClient()
    assert isinstance(venue, IExchangeClient)
    assert isinstance(venue.clock, VirtualClock)


@pytest.mark.parametrize(
    "kwargs",
    [{"fill_rate": 1.1}, {"reject_rate": -0.1}, {"partial_fill_rate": 2}, {"fill_rate": float("nan")},
     {"latency_ms": -1}],
)
def test_invalid_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FakeExchangeClient(**kwargs)  # type: ignore[arg-type]


def test_accepted_order_rests_with_sequential_exchange_ids() -> None:
    venue, _ = _venue(fill_rate=0.0)
    responses = [venue.place_limit(_req(i)) for i in (1, 2, 3)]
    assert [r.order_id for r in responses] == ["ORD000001", "ORD000002", "ORD000003"]
    assert all(r.success and r.state is OrderState.OPEN and r.message == "" for r in responses)
    assert [r.client_order_id for r in responses] == ["CLI00000001", "CLI00000002", "CLI00000003"]
    open_orders = venue.get_open_orders()
    assert [o.order_id for o in open_orders] == ["ORD000001", "ORD000002", "ORD000003"]
    assert open_orders[0] == OpenOrder("ORD000001", "CLI00000001", "BTCUSDT", Side.BUY, D("0.02"),
                                       D("50000.0"), D(0), OrderState.OPEN)
    assert venue.get_open_orders("ETHUSDT") == []
    assert venue.place_limit_order(_req(4)).order_id == "ORD000004"  # the original API's alias


def test_reject_rate_one_rejects_everything_and_uses_no_ids() -> None:
    venue, _ = _venue(reject_rate=1.0)
    response = venue.place_limit(_req(1))
    assert not response.success
    assert response.order_id is None
    assert response.state is OrderState.REJECTED
    assert response.message == REJECT_MESSAGE
    assert venue.get_open_orders() == []
    assert venue.rejected_total == 1 and venue.placed_total == 0


@pytest.mark.parametrize(("qty", "price"), [("0", "1"), ("-1", "1"), ("1", "0"), ("1", "-5")])
def test_non_positive_quantity_or_price_is_rejected(qty: str, price: str) -> None:
    venue, _ = _venue()
    response = venue.place_limit(PlaceOrderRequest("CLI00000001", "BTCUSDT", Side.BUY, qty, price))
    assert not response.success and "positive" in response.message
    assert venue.get_open_orders() == []


@pytest.mark.parametrize(("qty", "price"), [(float("nan"), "1"), ("1", "NaN"), ("Infinity", "1")])
def test_non_finite_quantity_or_price_is_rejected(qty: object, price: str) -> None:
    venue, _ = _venue()
    response = venue.place_limit(PlaceOrderRequest("CLI00000001", "BTCUSDT", Side.BUY, qty, price))  # type: ignore[arg-type]
    assert not response.success
    assert venue.get_open_orders() == []


def test_duplicate_active_client_id_is_rejected() -> None:
    venue, _ = _venue(fill_rate=0.0)
    assert venue.place_limit(_req(1)).success
    dup = venue.place_limit(_req(1))
    assert not dup.success and "duplicate" in dup.message
    assert len(venue.get_open_orders()) == 1


def test_fill_is_released_exactly_after_the_virtual_latency() -> None:
    venue, clock = _venue(latency_ms=250)
    venue.place_limit(_req(1, side=Side.SELL))
    assert venue.next_fill_ms() == 1_250
    clock.advance(249)
    assert list(venue.stream_fills()) == []
    clock.advance(1)
    fills = list(venue.stream_fills())
    assert fills == [
        FillEvent("CLI00000001", "ORD000001", "BTCUSDT", Side.SELL, D("0.02"), D("50000.0"), 1_250, True,
                  fills[0].fill_id),
    ]
    assert fills[0].fill_id.startswith("EXE")
    assert list(venue.stream_fills()) == []  # released once
    # a filled order is forgotten: not open, cannot be canceled
    assert venue.get_open_orders() == []
    assert venue.cancel("ORD000001") is False
    assert venue.next_fill_ms() is None and venue.pending_fill_count() == 0


def test_zero_latency_fills_at_the_current_time() -> None:
    venue, clock = _venue(latency_ms=0)
    venue.place_limit(_req(1))
    fills = list(venue.stream_fills())
    assert len(fills) == 1 and fills[0].timestamp_ms == clock.now_ms()


def test_fills_come_in_time_order_with_unique_ids() -> None:
    venue, clock = _venue(latency_ms=100)
    venue.place_limit(_req(1))
    clock.advance(30)
    venue.place_limit(_req(2))
    clock.advance(10)
    venue.place_limit(_req(3))
    clock.advance(1000)
    fills = list(venue.stream_fills())
    assert [f.client_order_id for f in fills] == ["CLI00000001", "CLI00000002", "CLI00000003"]
    assert [f.timestamp_ms for f in fills] == [1_100, 1_130, 1_140]
    assert len({f.fill_id for f in fills}) == 3


def test_partial_fill_comes_in_two_exact_parts() -> None:
    venue, clock = _venue(partial_fill_rate=1.0, latency_ms=100)
    venue.place_limit(_req(1, qty="0.33"))
    clock.advance(100)
    first = list(venue.stream_fills())
    assert len(first) == 1
    assert first[0].qty in {D("0.33") * k / 4 for k in (1, 2, 3)}
    (resting,) = venue.get_open_orders()
    assert resting.state is OrderState.PARTIALLY_FILLED
    assert resting.filled_qty == first[0].qty
    clock.advance(100)
    second = list(venue.stream_fills())
    assert len(second) == 1 and second[0].timestamp_ms == 1_200
    assert first[0].qty + second[0].qty == D("0.33")  # exactly, no rounding residue
    assert venue.get_open_orders() == []


def test_cancel_before_the_fill_prevents_it() -> None:
    venue, clock = _venue()
    venue.place_limit(_req(1))
    assert venue.cancel("ORD000001") is True
    assert venue.cancel("ORD000001") is False
    assert venue.cancel("ORD999999") is False
    clock.advance(10_000)
    assert list(venue.stream_fills()) == []
    assert venue.get_positions() == []
    assert venue.canceled_total == 1


def test_cancel_between_partial_fills_stops_the_rest() -> None:
    venue, clock = _venue(partial_fill_rate=1.0)
    venue.place_limit(_req(1))
    clock.advance(100)
    (part,) = venue.stream_fills()
    assert venue.cancel("ORD000001") is True
    clock.advance(10_000)
    assert list(venue.stream_fills()) == []
    assert [(p.symbol, p.qty) for p in venue.get_positions()] == [("BTCUSDT", part.qty)]


def test_position_reports_its_volume_weighted_entry_price() -> None:
    # models.Position: "a signed base-asset position ... and its volume-weighted entry price"
    venue, _ = _venue(latency_ms=0)
    venue.place_limit(_req(1, "ETHUSDT", Side.BUY, "1", "3000"))
    venue.place_limit(_req(2, "ETHUSDT", Side.BUY, "3", "3100"))
    list(venue.stream_fills())
    assert venue.get_positions() == [Position("ETHUSDT", D(4), D(3075))]


def test_average_cost_entry_price_through_reductions_and_flips() -> None:
    venue, _ = _venue(latency_ms=0)
    trades = [("BUY", "1", "3000"), ("BUY", "3", "3100"), ("SELL", "2", "3200")]
    for n, (side, qty, price) in enumerate(trades, 1):
        venue.place_limit(_req(n, "ETHUSDT", Side(side), qty, price))
    list(venue.stream_fills())
    assert venue.get_positions() == [Position("ETHUSDT", D(2), D(3075))]  # a reduction keeps the entry price
    venue.place_limit(_req(4, "ETHUSDT", Side.SELL, "4", "3300"))
    list(venue.stream_fills())
    assert venue.get_positions() == [Position("ETHUSDT", D(-2), D(3300))]  # a flip opens at the fill price
    venue.place_limit(_req(5, "ETHUSDT", Side.BUY, "2", "3000"))
    list(venue.stream_fills())
    assert venue.get_positions() == [Position("ETHUSDT", D(0), D(0))]


def test_execution_totals_sum_every_fill_per_symbol() -> None:
    venue, _ = _venue(latency_ms=0)
    venue.place_limit(_req(1, "ETHUSDT", Side.BUY, "0.1", "3000"))
    venue.place_limit(_req(2, "ETHUSDT", Side.SELL, "0.05", "3001"))
    venue.place_limit(_req(3, "BTCUSDT", Side.SELL, "0.02", "50000"))
    list(venue.stream_fills())
    totals = venue.execution_totals()
    assert sorted(totals) == ["BTCUSDT", "ETHUSDT"]
    eth = totals["ETHUSDT"]
    assert (eth.fills, eth.bought, eth.sold, eth.net_qty) == (2, D("0.1"), D("0.05"), D("0.05"))
    assert eth.maker_notional == D("450.05") and eth.taker_notional == 0  # resting limit orders fill as maker
    assert totals["BTCUSDT"].net_qty == D("-0.02")


def test_execution_totals_split_maker_and_taker_notional() -> None:
    totals = ExecutionTotals()
    totals.add(True, D("0.5"), D(100), True)
    totals.add(False, D("0.2"), D(110), False)
    assert (totals.fills, totals.bought, totals.sold, totals.net_qty) == (2, D("0.5"), D("0.2"), D("0.3"))
    assert (totals.maker_notional, totals.taker_notional) == (D("50.0"), D("22.0"))


def test_cancel_unschedules_the_orders_fills() -> None:
    venue, _ = _venue(partial_fill_rate=1.0)
    venue.place_limit(_req(1))
    assert venue.pending_fill_count() == 2
    venue.cancel("ORD000001")
    # "next_due_ms and pending only ever count live fills" (scheduling.FillScheduler)
    assert venue.pending_fill_count() == 0
    assert venue.next_fill_ms() is None


def test_client_id_can_be_reused_once_the_order_is_done() -> None:
    venue, _ = _venue(fill_rate=0.0)
    venue.place_limit(_req(1))
    venue.cancel("ORD000001")
    assert venue.place_limit(_req(1)).success


def test_positions_are_signed_exact_sums_sorted_by_symbol() -> None:
    venue, _ = _venue(latency_ms=0)
    venue.place_limit(_req(1, "ETHUSDT", Side.BUY, "0.1", "3000"))
    venue.place_limit(_req(2, "ETHUSDT", Side.BUY, "0.05", "3001"))
    venue.place_limit(_req(3, "BTCUSDT", Side.SELL, "0.02"))
    list(venue.stream_fills())
    positions = venue.get_positions()
    assert [(p.symbol, p.qty) for p in positions] == [("BTCUSDT", D("-0.02")), ("ETHUSDT", D("0.15"))]
    assert str(venue.get_positions()[1].qty) == "0.15"
    assert venue.fills_total == 3


def test_memory_stays_flat_when_orders_finish() -> None:
    venue, clock = _venue(fill_rate=0.5, reject_rate=0.1, partial_fill_rate=0.3, latency_ms=50)
    for n in range(1, 3001):
        venue.place_limit(_req(n))
        clock.advance(100)
        list(venue.stream_fills())
        for order in venue.get_open_orders():
            venue.cancel(order.order_id)
    assert venue.get_open_orders() == []
    assert venue.pending_fill_count() <= 2  # only leftovers of the last canceled order may wait in the queue
    clock.advance(1_000)
    assert list(venue.stream_fills()) == []
    assert venue.pending_fill_count() == 0


def test_rates_are_honoured_on_average() -> None:
    venue, _ = _venue(fill_rate=0.7, reject_rate=0.05, latency_ms=0, seed=42)
    n = 4000
    accepted = sum(venue.place_limit(_req(i)).success for i in range(1, n + 1))
    filled = len(list(venue.stream_fills()))
    assert abs((n - accepted) / n - 0.05) < 0.02
    assert abs(filled / accepted - 0.7) < 0.03


def test_same_seed_and_client_ids_give_the_same_fates_whatever_else_happens() -> None:
    def fates(venue: FakeExchangeClient, clock: VirtualClock, ids: list[int]) -> dict[str, str]:
        out: dict[str, str] = {}
        for n in ids:
            r = venue.place_limit(_req(n))
            out[r.client_order_id] = "rejected" if not r.success else "open"
        clock.advance(10_000)
        for fill in venue.stream_fills():
            out[fill.client_order_id] = "filled"
        return out

    a = fates(*_venue(fill_rate=0.5, reject_rate=0.2, seed=9), list(range(1, 200)))
    b = fates(*_venue(fill_rate=0.5, reject_rate=0.2, seed=9), list(range(1, 200, 3)))  # other orders missing
    assert {k: a[k] for k in b} == b
    c = fates(*_venue(fill_rate=0.5, reject_rate=0.2, seed=10), list(range(1, 200)))
    assert a != c


def test_order_uniforms_are_deterministic_uniforms() -> None:
    u = order_uniforms(42, "CLI00000001")
    assert u == order_uniforms(42, "CLI00000001")
    assert len(u) == 4 and all(0.0 <= x < 1.0 for x in u)
    assert len(set(u)) == 4
    assert order_uniforms(43, "CLI00000001") != u
    assert order_uniforms(42, "CLI00000002") != u
    assert order_uniforms(-42, "CLI00000001") not in (u, order_uniforms(0, "CLI00000001"))


# ---------------------------------------------------------------- fill planning and scheduling
def _plan(lots: int = 3300, **u: float) -> list[tuple[int, int]]:
    args = {"u_fill": 0.5, "u_partial": 0.5, "u_fraction": 0.5, "fill_rate": 0.7, "partial_fill_rate": 0.0}
    args.update(u)
    return plan_fill_lots(lots, 1_000, 100, first_part_quarters(**args))


def test_plan_fill_lots_by_the_orders_uniforms() -> None:
    assert _plan(u_fill=0.7) == []  # u_fill >= fill_rate: rests until canceled
    assert _plan(u_fill=0.69) == [(1_100, 3300)]
    assert _plan(partial_fill_rate=1.0, u_fraction=0.0) == [(1_100, 825), (1_200, 2475)]
    assert _plan(partial_fill_rate=1.0, u_fraction=0.5) == [(1_100, 1650), (1_200, 1650)]
    assert _plan(partial_fill_rate=1.0, u_fraction=0.99) == [(1_100, 2475), (1_200, 825)]
    assert _plan(partial_fill_rate=0.5, u_partial=0.5) == [(1_100, 3300)]  # u_partial >= rate: whole
    assert _plan(lots=3, partial_fill_rate=1.0, u_fraction=0.0) == [(1_100, 3)]  # too small to split
    assert _plan(lots=33, partial_fill_rate=1.0, u_fraction=0.0) == [(1_100, 8), (1_200, 25)]  # rounded down


def test_scheduler_releases_due_fills_in_time_then_schedule_order() -> None:
    sched = FillScheduler()
    sched.schedule(200, "B", D(2))
    sched.schedule(100, "A", D(1))
    sched.schedule(200, "C", D(3))
    assert len(sched) == sched.pending() == 3
    assert sched.next_due_ms() == 100
    assert list(sched.pop_due(99)) == []
    assert list(sched.pop_due(200)) == [(100, "A", D(1)), (200, "B", D(2)), (200, "C", D(3))]
    assert sched.next_due_ms() is None and sched.pending() == 0


def test_scheduler_discard_drops_every_pending_fill_of_an_order() -> None:
    sched = FillScheduler()
    sched.schedule(100, "A", D(1))
    sched.schedule(200, "A", D(2))
    sched.schedule(150, "B", D(5))
    assert sched.discard("A") == 2
    assert sched.discard("A") == 0
    assert sched.pending() == 1
    assert sched.next_due_ms() == 150
    assert list(sched.pop_due(10_000)) == [(150, "B", D(5))]
    assert len(sched) == 0


def test_scheduler_counts_down_an_orders_remaining_fills() -> None:
    sched = FillScheduler()
    sched.schedule(100, "A", D(1))
    sched.schedule(200, "A", D(2))
    assert list(sched.pop_due(100)) == [(100, "A", D(1))]
    assert sched.pending() == 1
    assert sched.discard("A") == 1
    assert list(sched.pop_due(10_000)) == []
