"""Fixed point in the hot path: integer helpers, and every integer path agreeing with its Decimal twin."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.accounting.ledger import FeeLedger
from mmexec.accounting.pnl import PnlTracker
from mmexec.canonical import dumps
from mmexec.compat import ExecutionParams  # the original API: it carries the test's risk limits too
from mmexec.engine.loop import ExecutionLoop
from mmexec.engine.models import FillEvent, PlaceOrderRequest, PlaceOrderResponse, Side
from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.ports import TickVenue
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.exchanges.fake import FakeExchangeClient
from mmexec.exchanges.scheduling import plan_fill_lots
from mmexec.fees.profiles import build_profile_map
from mmexec.fees.resolve import DEFAULT_FEE_SCHEDULE
from mmexec.money import decimal_at, div_half_even, plain, precision_of, raw_at

D = Decimal
TICK, LOT = D("0.1"), D("0.001")


# ---------------------------------------------------------------- helpers of mmexec.money
def test_precision_raw_and_decimal_round_trip() -> None:
    assert [precision_of(D(x)) for x in ("0.010", "5E+2", "7", "-1.25")] == [3, 0, 0, 2]
    assert raw_at(D("0.020"), 3) == 20 and raw_at(D("-1.5"), 2) == -150
    with pytest.raises(ValueError, match="more than 1 decimal places"):
        raw_at(D("0.05"), 1)
    assert str(decimal_at(1500, 4)) == "0.15" and str(decimal_at(40, 1)) == "4" and str(decimal_at(0, 3)) == "0"
    assert [str(plain(D(x))) for x in ("1.50", "2.00", "100", "-0.0")] == ["1.5", "2", "100", "-0"]


@given(st.integers(-10**30, 10**30), st.integers(-10**12, 10**12).filter(bool))
def test_div_half_even_is_the_nearest_integer_ties_to_even(numerator: int, denominator: int) -> None:
    q = div_half_even(numerator, denominator)
    exact = Fraction(numerator, denominator)
    assert abs(exact - q) <= Fraction(1, 2)
    if abs(exact - q) == Fraction(1, 2):
        assert q % 2 == 0


def test_partial_fills_are_lot_aligned() -> None:
    assert plan_fill_lots(33, 1_000, 100, 1) == [(1_100, 8), (1_200, 25)]  # a quarter of 33 lots, rounded down
    assert plan_fill_lots(33, 1_000, 100, 4) == [(1_100, 33)]
    assert plan_fill_lots(1, 1_000, 100, 3) == [(1_100, 1)]  # too small to split: one fill
    assert plan_fill_lots(10, 1_000, 100, None) == []


# ---------------------------------------------------------------- accounting: ticks == decimals
fills_st = st.lists(st.tuples(st.booleans(), st.integers(1, 500), st.integers(1, 2_000_000), st.booleans()),
                    max_size=40)


@settings(max_examples=60, deadline=None)
@given(fills_st)
def test_pnl_and_fees_from_ticks_equal_those_from_decimals(fills: list[tuple[bool, int, int, bool]]) -> None:
    by_ticks, by_decimals = PnlTracker(), PnlTracker()
    schedule = build_profile_map("MM_Tier_A")  # a maker rebate too
    ledger_ticks, ledger_decimals = (FeeLedger(DEFAULT_FEE_SCHEDULE, schedule) for _ in range(2))
    by_ticks.set_grid("BTCUSDT", TICK, LOT)
    ledger_ticks.set_grid("BTCUSDT", TICK, LOT)
    for n, (buy, lots, ticks, maker) in enumerate(fills):
        by_ticks.on_ticks("BTCUSDT", buy, lots, ticks, maker)
        ledger_ticks.on_ticks("BTCUSDT", buy, lots, ticks, maker)
        fill = FillEvent(f"C{n}", f"O{n}", "BTCUSDT", Side.BUY if buy else Side.SELL, lots * LOT, ticks * TICK, n,
                         maker)
        by_decimals.on_fill(fill)
        ledger_decimals.on_fill(fill)
    mids = {"BTCUSDT": D("50000.05")}
    assert dumps(by_ticks.section(mids)) == dumps(by_decimals.section(mids))
    assert dumps(ledger_ticks.section()) == dumps(ledger_decimals.section())


# ---------------------------------------------------------------- order store and risk
def test_store_integer_path_matches_the_decimal_one_and_refines_for_finer_fills() -> None:
    ticks_store, decimal_store = InMemoryOrderStore(), InMemoryOrderStore()
    ticks_store.set_grid("BTCUSDT", TICK, LOT)
    decimal_store.set_grid("BTCUSDT", TICK, LOT)
    fast = ticks_store.add_placed(ticks_store.next_client_order_id(), "BTCUSDT", Side.BUY, 20, 500_000, "ORD1", 5)
    slow = decimal_store.create("BTCUSDT", Side.BUY, D("0.020"), D("50000.0"), now_ms=5)
    decimal_store.open_order(slow, "ORD1", 5)
    ticks_store.fill_lots(fast, 5, 6)
    decimal_store.fill_order(slow, D("0.005"), 6)
    assert fast.to_dict() == slow.to_dict() and ticks_store.counts() == decimal_store.counts()
    decimal_store.fill_order(slow, D("0.0001"), 7)  # finer than a lot: the order's grid is refined, not rounded
    assert slow.filled_qty == D("0.0051") and slow.remaining_qty == D("0.0149")
    assert decimal_store.get_positions() == {"BTCUSDT": D("0.0051")}


def test_risk_values_off_the_grid_refine_it_and_integer_checks_still_agree() -> None:
    risk = RuntimeRiskMonitor(10_000, 50_000, 1.5)
    risk.set_grid("BTCUSDT", TICK, LOT)
    x = risk.exposure("BTCUSDT")
    risk.reserve_ticks(x, True, 20 * 500_000)  # 0.02 @ 50,000.0 = 1,000
    assert risk.open_exposure("BTCUSDT") == (D(1000), D(0))
    risk.apply_fill("BTCUSDT", Side.SELL, D("0.0001"), D("50000.05"))  # finer lot and tick than the grid
    assert risk.position("BTCUSDT") == D("-0.0001")
    assert risk.open_exposure("BTCUSDT") == (D(1000), D(0))
    # the integer methods still take ticks and lots of the registered grid
    assert risk.check(x, True, 180, 500_000) is None  # 1,000 open + 9,000 = 10,000 - 5.000005 short: fits
    assert risk.check(x, True, 181, 500_000) == "max_inventory_usd_per_symbol"
    assert risk.evaluate("BTCUSDT", Side.BUY, D("0.181"), D("50000")) == "max_inventory_usd_per_symbol"


# ---------------------------------------------------------------- the venue port: ticks == decimals
class _DecimalOnly(FakeExchangeClient):
    """The fake venue driven through the Decimal port only (it overrides place_limit and stream_fills)."""

    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        return super().place_limit(req)

    def stream_fills(self) -> Iterator[FillEvent]:
        return super().stream_fills()


def _report(venue: FakeExchangeClient, params: ExecutionParams) -> tuple[bytes, bytes, bytes, int]:
    risk = RuntimeRiskMonitor(2_500, 4_000, params.edge_freeze_threshold_bps)
    loop = ExecutionLoop(venue, InMemoryOrderStore(), risk)
    pnl, ledger = PnlTracker(), FeeLedger(DEFAULT_FEE_SCHEDULE)
    loop.add_tick_listener(pnl)
    loop.add_tick_listener(ledger)
    fills: list[FillEvent] = []
    loop.fill_listeners.append(fills.append)
    report = loop.run(params)
    mids = {s: m for s, m in loop.last_mids().items() if m is not None}
    return dumps(report), dumps(pnl.section(mids)), dumps(ledger.section()), len(fills)


@pytest.mark.parametrize("venue_kwargs", [{}, {"partial_fill_rate": 0.5, "fill_rate": 0.95}])
def test_the_integer_venue_path_reports_exactly_what_the_decimal_port_does(venue_kwargs: dict[str, Any]) -> None:
    assert isinstance(FakeExchangeClient(), TickVenue)
    assert not isinstance(_DecimalOnly(), TickVenue)  # it intercepts the Decimal port: driven through it only
    params = ExecutionParams(symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"], iterations=300,
                             edge_freeze_threshold_bps=-1000, utc="2025-01-01T00:00:00Z")
    fast = _report(FakeExchangeClient(**venue_kwargs), params)
    slow = _report(_DecimalOnly(**venue_kwargs), params)
    assert fast == slow
    assert fast[3] > 100  # it traded
