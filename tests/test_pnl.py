"""PnlTracker: average-cost realized PnL, unrealized at the last mid, and the exact net identity."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.accounting.ledger import FeeLedger
from mmexec.accounting.pnl import DIVISION_PLACES, PnlTracker, net_pnl
from mmexec.canonical import dumps
from mmexec.engine.models import FillEvent, Side
from mmexec.fees.profiles import build_profile_map
from mmexec.fees.resolve import DEFAULT_FEE_SCHEDULE

D = Decimal


def fill(side: str, qty: str, price: str, symbol: str = "BTCUSDT", maker: bool = True) -> FillEvent:
    return FillEvent("CLI1", "ORD1", symbol, Side(side), D(qty), D(price), 0, maker)


def run(*fills: FillEvent) -> PnlTracker:
    tracker = PnlTracker()
    for f in fills:
        tracker.on_fill(f)
    return tracker


def test_round_trip_long_and_short() -> None:
    long = run(fill("BUY", "0.3", "50000.1"), fill("SELL", "0.3", "50010.7"))
    assert long.realized() == D("0.3") * (D("50010.7") - D("50000.1")) == D("3.18")
    assert long.position("BTCUSDT").qty == 0
    short = run(fill("SELL", "2", "100"), fill("BUY", "2", "90"))
    assert short.realized("BTCUSDT") == D(20)


def test_average_cost_by_hand() -> None:
    t = PnlTracker()
    assert t.on_fill(fill("BUY", "1", "100")) == 0
    assert t.on_fill(fill("BUY", "3", "104")) == 0  # avg = (100 + 312) / 4 = 103
    assert t.position("BTCUSDT").avg_price == D(103)
    assert t.on_fill(fill("SELL", "2", "110")) == D(14)  # 2 * (110 - 103)
    assert t.position("BTCUSDT").qty == 2 and t.position("BTCUSDT").avg_price == D(103)
    # flip: sell 5 closes the remaining 2 at 101 (realizes -4) and opens a short of 3 at 101
    assert t.on_fill(fill("SELL", "5", "101")) == D(-4)
    pos = t.position("BTCUSDT")
    assert (pos.qty, pos.avg_price) == (D(-3), D(101))
    assert t.realized() == D(10)
    section = t.section({"BTCUSDT": D(99)}, D("1.5"), D("0.25"))
    total = section["total"]
    assert total["realized"] == 10 and total["unrealized"] == D(6)  # short 3 from 101 marked at 99
    assert total["net"] == D(10) + D(6) - D("1.5") + D("0.25") == D("14.75")
    entry = section["by_symbol"]["BTCUSDT"]
    assert (entry["position"], entry["avg_entry_price"], entry["mark_price"]) == (D(-3), D(101), D(99))
    assert "fees" not in entry  # totals were passed, not per-symbol mappings


def test_partial_close_with_a_non_terminating_average() -> None:
    t = run(fill("BUY", "1", "100"), fill("BUY", "1", "100"), fill("BUY", "1", "101"))  # avg 100.333...
    realized = t.on_fill(fill("SELL", "1", "101"))
    assert abs(Fraction(realized) - Fraction(2, 3)) <= Fraction(1, 2 * 10**DIVISION_PLACES)
    # the split may round at 1e-60, the sum never does: realized + unrealized == cash + position * mark
    section = t.section({"BTCUSDT": D("100.5")})
    cash = -(D(100) + D(100) + D(101)) + D(101)
    assert section["total"]["gross"] == cash + 2 * D("100.5")
    t.on_fill(fill("SELL", "2", "102"))
    assert t.realized() == D(102) * 3 + cash - D(102)  # fully closed: exact again
    assert t.position("BTCUSDT").qty == 0


def test_mark_falls_back_to_last_fill_price_and_symbols_come_from_fills_and_fees() -> None:
    t = run(fill("BUY", "1", "100"), fill("BUY", "1", "104", symbol="ETHUSDT"))
    section = t.section({"ETHUSDT": "106"}, {"BTCUSDT": D(1), "SOLUSDT": D(2)}, {"BTCUSDT": D("0.5")})
    by = section["by_symbol"]
    assert list(by) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert by["BTCUSDT"]["mark_price"] == 100 and by["BTCUSDT"]["unrealized"] == 0
    assert by["ETHUSDT"]["unrealized"] == 2 and by["ETHUSDT"]["fees"] == 0 and by["ETHUSDT"]["net"] == 2
    assert by["BTCUSDT"]["net"] == D("-0.5")
    assert by["SOLUSDT"]["position"] == 0 and by["SOLUSDT"]["net"] == -2
    assert section["total"]["fees"] == 3 and section["total"]["rebates"] == D("0.5")
    assert section["total"]["net"] == 2 - 3 + D("0.5")
    assert section["method"] == "average_cost"
    dumps(section)  # JSON-ready


def test_fees_and_rebates_must_be_the_same_kind() -> None:
    with pytest.raises(TypeError):
        PnlTracker().section({}, {"BTCUSDT": D(1)}, D(0))


def test_empty_tracker() -> None:
    section = PnlTracker().section({"BTCUSDT": D(1)})
    assert section["by_symbol"] == {}
    assert section["total"] == {k: 0 for k in ("realized", "unrealized", "gross", "fees", "rebates", "net")}
    assert PnlTracker().position("BTCUSDT").qty == 0 and PnlTracker().realized("X") == 0


# ---- properties -----------------------------------------------------------------------------------------

qtys = st.decimals(min_value=D("0.001"), max_value=D("50"), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
fills_st = st.lists(
    st.builds(
        lambda sym, side, q, p, maker: fill(side, str(q), str(p), sym, maker),
        st.sampled_from(["BTCUSDT", "ETHUSDT"]),
        st.sampled_from(["BUY", "SELL"]),
        qtys,
        prices,
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(fills_st, prices, prices, st.sampled_from(["VIP0", "VIP2", "MM_Tier_A"]))
def test_net_identity_and_cash_flow_identity(fills: list[FillEvent], mid_btc: D, mid_eth: D, tier: str) -> None:
    with localcontext(Context(prec=400)):  # the test's own sums must not round either
        _check_identities(fills, mid_btc, mid_eth, tier)


def _check_identities(fills: list[FillEvent], mid_btc: D, mid_eth: D, tier: str) -> None:
    tracker = PnlTracker()
    ledger = FeeLedger(DEFAULT_FEE_SCHEDULE, build_profile_map(tier), tier=tier)
    for f in fills:
        tracker.on_fill(f)
        ledger.on_fill(f)
    mids = {"BTCUSDT": mid_btc, "ETHUSDT": mid_eth}
    fees_section = ledger.section()
    fees_total = fees_section["total"]["maker_fees"] + fees_section["total"]["taker_fees"]
    rebates_total = fees_section["total"]["maker_rebates"]
    for section in (
        tracker.section(mids, fees_total, rebates_total),
        tracker.section(mids, ledger.fees_by_symbol(), ledger.rebates_by_symbol()),
    ):
        total = section["total"]
        assert total["net"] == total["realized"] + total["unrealized"] - total["fees"] + total["rebates"]
        assert total["fees"] - total["rebates"] == fees_section["total"]["net_cost"]
        # realized + unrealized is exactly the cash flows plus the positions at the mid
        cash = sum((-(f.qty * f.price) if f.side is Side.BUY else f.qty * f.price for f in fills), D(0))
        marked = sum((tracker.position(s).qty * mids[s] for s in tracker.symbols()), D(0))
        assert total["realized"] + total["unrealized"] == cash + marked
        assert total["realized"] == sum((e["realized"] for e in section["by_symbol"].values()), D(0))
    per_symbol = tracker.section(mids, ledger.fees_by_symbol(), ledger.rebates_by_symbol())
    for entry in per_symbol["by_symbol"].values():
        assert entry["net"] == entry["realized"] + entry["unrealized"] - entry["fees"] + entry["rebates"]
    assert sum((e["net"] for e in per_symbol["by_symbol"].values()), D(0)) == per_symbol["total"]["net"]


@settings(max_examples=200, deadline=None)
@given(qtys, prices, prices, st.sampled_from(["BUY", "SELL"]))
def test_round_trip_realizes_exactly_q_times_price_difference(q: D, p1: D, p2: D, first: str) -> None:
    side = Side(first)
    t = run(fill(side.value, str(q), str(p1)), fill(side.opposite.value, str(q), str(p2)))
    expected = q * (p2 - p1) if side is Side.BUY else q * (p1 - p2)
    assert t.realized() == expected
    assert t.section({"BTCUSDT": p2})["total"]["unrealized"] == 0


@settings(max_examples=150, deadline=None)
@given(fills_st)
def test_average_cost_matches_a_fraction_oracle(fills: list[FillEvent]) -> None:
    tracker = PnlTracker()
    book: dict[str, tuple[Fraction, Fraction]] = {}  # symbol -> (qty, cost), exact rationals
    realized = Fraction(0)
    for f in fills:
        tracker.on_fill(f)
        qty, cost = book.get(f.symbol, (Fraction(0), Fraction(0)))
        dq, price = Fraction(f.qty) * f.side.sign, Fraction(f.price)
        if qty and (qty > 0) != (dq > 0):
            closing = -dq if abs(dq) <= abs(qty) else qty
            removed = cost * closing / qty
            realized += closing * price - removed
            qty, cost, dq = qty - closing, cost - removed, dq + closing
        qty, cost = qty + dq, cost + dq * price
        book[f.symbol] = (qty, cost)
    assert abs(Fraction(tracker.realized()) - realized) <= Fraction(len(fills), 2 * 10**DIVISION_PLACES)
    for sym, (qty, _cost) in book.items():
        assert Fraction(tracker.position(sym).qty) == qty


def test_net_pnl_helper() -> None:
    assert net_pnl(D("1.1"), D("-0.2"), D("0.3"), D("0.05")) == D("0.65")


def test_no_default_context_rounding_of_long_quantities() -> None:
    q = "0.1234567890123456789012345678901234567"  # 37 significant digits: more than the default 28
    t = run(fill("SELL", q, "1"), fill("BUY", q, "2"))
    assert t.position("BTCUSDT").qty == 0
    assert t.realized() == D(q).copy_negate()  # (unary minus would round to 28 digits)


_GRIDS = {"BTCUSDT": (D("0.1"), D("0.001")), "XRPUSDT": (D("0.0001"), D("1"))}
tick_fills = st.lists(st.tuples(st.sampled_from(sorted(_GRIDS)), st.booleans(), st.integers(1, 40),
                                st.integers(1, 900), st.booleans()), max_size=60)


def _tick_tracker() -> PnlTracker:
    tracker = PnlTracker()
    for symbol, (tick, lot) in _GRIDS.items():
        tracker.set_grid(symbol, tick, lot)
    return tracker


@settings(max_examples=100, deadline=None)
@given(tick_fills)
def test_queued_integer_fills_equal_decimal_fills_whenever_they_are_read(
        fills: list[tuple[str, bool, int, int, bool]]) -> None:
    queued, decimal = _tick_tracker(), PnlTracker()
    for symbol, is_buy, lots, ticks, read_now in fills:
        tick, lot = _GRIDS[symbol]
        queued.on_ticks(symbol, is_buy, lots, ticks)
        decimal.on_fill(FillEvent("c", "o", symbol, Side.BUY if is_buy else Side.SELL, lots * lot, ticks * tick, 0))
        if read_now:  # a reader in the middle (the timeline samples so) folds what is queued
            assert queued.holding(symbol) == decimal.holding(symbol)
    mids = {"BTCUSDT": D("50000.05"), "XRPUSDT": D("0.6001")}
    assert dumps(queued.section(mids)) == dumps(decimal.section(mids))


def test_a_long_queue_folds_in_batches_with_the_same_result() -> None:
    queued, decimal = _tick_tracker(), PnlTracker()
    for i in range(10_000):  # more than one batch of queued fills
        is_buy, lots, ticks = i % 3 != 0, 1 + i % 7, 500_000 + (i * 37) % 101
        queued.on_ticks("BTCUSDT", is_buy, lots, ticks)
        decimal.on_fill(FillEvent("c", "o", "BTCUSDT", Side.BUY if is_buy else Side.SELL, lots * D("0.001"),
                                  ticks * D("0.1"), 0))
    assert queued.holding("BTCUSDT") == decimal.holding("BTCUSDT")
    assert queued.position("BTCUSDT") == decimal.position("BTCUSDT")
    assert queued.realized() == decimal.realized()
