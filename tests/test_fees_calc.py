"""Fee arithmetic: hand-computed expectations per tier, schedule choice, and exactness properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.accounting.ledger import FeeLedger
from mmexec.canonical import dumps, loads
from mmexec.engine.models import FillEvent, Side
from mmexec.fees.calc import (
    FeeTotals,
    ScheduleSource,
    calc_fees_and_rebates,
    fill_fees,
    match_schedule,
    schedule_for,
)
from mmexec.fees.profiles import TIERS, VIP0_PROFILE, VIP1_PROFILE, VIP2_PROFILE, build_profile_map
from mmexec.fees.schedule import FeeSchedule


def fill(symbol: str, side: str, qty: str, price: str, maker: bool, n: int = 1) -> FillEvent:
    return FillEvent(f"CLI{n:08d}", f"ORD{n:06d}", symbol, Side(side), Decimal(qty), Decimal(price), n, maker)


# A maker buy of notional 20000 and a taker sell of notional 10025.
FILLS = [fill("BTCUSDT", "BUY", "0.5", "40000", True, 1), fill("BTCUSDT", "SELL", "0.25", "40100", False, 2)]

# (maker fee, taker fee, rebate, net) computed by hand: fee = notional * bps / 10000.
HAND = {
    "VIP0": ("2", "7.0175", "0", "9.0175"),  # 20000*1.0, 10025*7.0, 20000*0.0
    "VIP1": ("1.6", "6.51625", "2", "6.11625"),  # 20000*0.8, 10025*6.5, 20000*1.0
    "VIP2": ("1", "5.0125", "5", "1.0125"),  # 20000*0.5, 10025*5.0, 20000*2.5
    "VIP3": ("0.4", "4.01", "6", "-1.59"),  # 20000*0.2, 10025*4.0, 20000*3.0
    "MM_Tier_A": ("0", "3.0075", "10", "-6.9925"),  # 20000*0.0, 10025*3.0, 20000*5.0
}


@pytest.mark.parametrize("tier", list(HAND))
def test_each_tier_by_hand(tier: str) -> None:
    maker, taker, rebate, net = (Decimal(v) for v in HAND[tier])
    report = calc_fees_and_rebates(FILLS, VIP0_PROFILE, build_profile_map(tier), tier=tier)
    total = report.total
    assert (total.maker_fees, total.taker_fees, total.maker_rebates, total.net_cost) == (maker, taker, rebate, net)
    assert (report.maker_fees, report.taker_fees, report.maker_rebates, report.net_cost) == (
        maker,
        taker,
        rebate,
        net,
    )
    assert total.maker_notional == 20000 and total.taker_notional == Decimal("10025")
    assert (total.fills, total.maker_fills, total.taker_fills) == (2, 1, 1)
    assert report.by_symbol["BTCUSDT"].totals == total
    assert report.by_symbol["BTCUSDT"].source is ScheduleSource.WILDCARD
    assert report.tier == tier


def test_seed_default_schedule_example() -> None:
    seed_default = FeeSchedule(maker_bps=Decimal("1.0"), taker_bps=Decimal("7.0"), maker_rebate_bps=Decimal("2.0"))
    report = calc_fees_and_rebates(fills=FILLS, fee_schedule=seed_default, profile_map=None)
    assert report.total.maker_rebates == 4  # 20000 * 2.0 / 10000
    assert report.net_cost == Decimal("5.0175")  # 2 + 7.0175 - 4
    assert report.by_symbol["BTCUSDT"].source is ScheduleSource.FALLBACK


def test_exact_symbol_beats_wildcard_beats_fallback() -> None:
    profile_map = {"BTCUSDT": VIP2_PROFILE, "*": VIP1_PROFILE}
    assert match_schedule("BTCUSDT", VIP0_PROFILE, profile_map) == (VIP2_PROFILE, ScheduleSource.SYMBOL)
    assert match_schedule("ETHUSDT", VIP0_PROFILE, profile_map) == (VIP1_PROFILE, ScheduleSource.WILDCARD)
    no_wildcard = {"BTCUSDT": VIP2_PROFILE}
    assert match_schedule("ETHUSDT", VIP0_PROFILE, no_wildcard) == (VIP0_PROFILE, ScheduleSource.FALLBACK)
    assert schedule_for("ETHUSDT", VIP0_PROFILE, None) is VIP0_PROFILE
    assert schedule_for("ETHUSDT", VIP0_PROFILE, {}) is VIP0_PROFILE


def test_per_symbol_choice_by_hand() -> None:
    fills = [
        fill("BTCUSDT", "BUY", "1", "10000", True, 1),  # exact: VIP2 -> fee 0.5, rebate 2.5
        fill("ETHUSDT", "BUY", "1", "10000", False, 2),  # wildcard: VIP1 -> taker 6.5
        fill("SOLUSDT", "SELL", "10", "1000", True, 3),  # no "*" in the second map: fallback VIP0 -> fee 1
    ]
    with_wildcard = calc_fees_and_rebates(fills, VIP0_PROFILE, {"BTCUSDT": VIP2_PROFILE, "*": VIP1_PROFILE})
    by = with_wildcard.by_symbol
    assert (by["BTCUSDT"].totals.maker_fees, by["BTCUSDT"].totals.maker_rebates) == (Decimal("0.5"), Decimal("2.5"))
    assert by["ETHUSDT"].totals.taker_fees == Decimal("6.5")
    assert by["SOLUSDT"].totals.maker_fees == Decimal("0.8") and by["SOLUSDT"].source is ScheduleSource.WILDCARD
    without = calc_fees_and_rebates(fills, VIP0_PROFILE, {"BTCUSDT": VIP2_PROFILE})
    assert without.by_symbol["SOLUSDT"].totals.maker_fees == Decimal("1")
    assert without.by_symbol["SOLUSDT"].source is ScheduleSource.FALLBACK
    assert without.by_symbol["ETHUSDT"].totals.taker_fees == Decimal("7")
    assert without.net_cost == Decimal("0.5") - Decimal("2.5") + 7 + 1


def test_no_float_rounding_where_float_would_round() -> None:
    # 0.1 * 3 in binary floating point is 0.30000000000000004; the fee engine stays exact.
    fills = [fill("BTCUSDT", "BUY", "0.1", "1", False, n) for n in range(3)]
    report = calc_fees_and_rebates(fills, FeeSchedule(0, "10000", 0))
    assert report.total.taker_fees == Decimal("0.3")
    assert report.total.taker_notional == Decimal("0.3")


def test_empty_fills_give_zero_totals_and_the_section_shape() -> None:
    report = calc_fees_and_rebates([], VIP0_PROFILE, tier=None)
    assert report.total == FeeTotals()
    section = report.to_dict()
    assert section["by_symbol"] == {} and section["tier"] is None
    assert set(section["total"]) == {
        "fills", "maker_fills", "taker_fills", "maker_notional", "taker_notional",
        "maker_fees", "taker_fees", "maker_rebates", "net_cost",
    }  # fmt: skip


def test_setup_is_recorded_as_the_schedule_key() -> None:
    setup = {"tier": "VIP2", "profiles": None}
    report = calc_fees_and_rebates(FILLS, VIP0_PROFILE, build_profile_map("VIP2"), tier="VIP2", setup=setup)
    assert report.to_dict()["schedule"] == setup
    assert "schedule" not in calc_fees_and_rebates(FILLS, VIP0_PROFILE).to_dict()


def test_section_is_canonical_json_with_snake_case_keys() -> None:
    section = calc_fees_and_rebates(FILLS, VIP0_PROFILE, build_profile_map("VIP2"), tier="VIP2").to_dict()
    data = loads(dumps(section))
    entry = data["by_symbol"]["BTCUSDT"]
    assert entry["schedule"] == {"name": "VIP2", "maker_bps": 0.5, "taker_bps": 5.0, "maker_rebate_bps": 2.5}
    assert entry["schedule_source"] == "wildcard"
    assert data["total"]["net_cost"] == 1.0125


# ---- properties -----------------------------------------------------------------------------------------

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
qtys = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1000"), places=8)
prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("200000"), places=4)
fills_st = st.lists(
    st.builds(
        lambda sym, side, q, p, maker, n: fill(sym, side, str(q), str(p), maker, n),
        st.sampled_from(SYMBOLS),
        st.sampled_from(["BUY", "SELL"]),
        qtys,
        prices,
        st.booleans(),
        st.integers(min_value=1, max_value=10**6),
    ),
    max_size=40,
)
bps_st = st.decimals(min_value=0, max_value=100, places=4)
schedules = st.builds(FeeSchedule, bps_st, bps_st, bps_st)
profile_maps = st.dictionaries(st.sampled_from([*SYMBOLS[:2], "*"]), schedules, max_size=3)


def _oracle(fills: list[FillEvent], fallback: FeeSchedule, profile_map: dict[str, FeeSchedule]) -> dict[str, Fraction]:
    """Independent exact arithmetic with fractions: sums of per-fill fees."""
    out = {"maker_fees": Fraction(0), "taker_fees": Fraction(0), "maker_rebates": Fraction(0)}
    for f in fills:
        s = profile_map.get(f.symbol, profile_map.get("*", fallback))
        notional = Fraction(f.qty) * Fraction(f.price)
        if f.is_maker:
            out["maker_fees"] += notional * Fraction(s.maker_bps) / 10000
            out["maker_rebates"] += notional * Fraction(s.maker_rebate_bps) / 10000
        else:
            out["taker_fees"] += notional * Fraction(s.taker_bps) / 10000
    return out


@settings(max_examples=150, deadline=None)
@given(fills_st, schedules, profile_maps)
def test_totals_equal_the_exact_sum_of_per_fill_fees(
    fills: list[FillEvent], fallback: FeeSchedule, profile_map: dict[str, FeeSchedule]
) -> None:
    report = calc_fees_and_rebates(fills, fallback, profile_map)
    expected = _oracle(fills, fallback, profile_map)
    total = report.total
    assert Fraction(total.maker_fees) == expected["maker_fees"]
    assert Fraction(total.taker_fees) == expected["taker_fees"]
    assert Fraction(total.maker_rebates) == expected["maker_rebates"]
    assert total.net_cost == total.maker_fees + total.taker_fees - total.maker_rebates
    # totals are exactly the per-symbol sums, and the per-symbol sums are the per-fill sums
    assert sum((e.totals for e in report.by_symbol.values()), FeeTotals()) == total
    for sym, entry in report.by_symbol.items():
        mine = [f for f in fills if f.symbol == sym]
        per_fill = [fill_fees(f, entry.schedule) for f in mine]
        assert entry.totals.fills == len(mine)
        assert entry.totals.maker_fees + entry.totals.taker_fees == sum((p.fee for p in per_fill), Decimal(0))
        assert entry.totals.maker_rebates == sum((p.rebate for p in per_fill), Decimal(0))
        assert entry.schedule == schedule_for(sym, fallback, profile_map)


@settings(max_examples=100, deadline=None)
@given(fills_st, schedules, profile_maps, st.randoms(use_true_random=False))
def test_ledger_equals_calc_and_order_does_not_matter(
    fills: list[FillEvent], fallback: FeeSchedule, profile_map: dict[str, FeeSchedule], rnd: object
) -> None:
    ledger = FeeLedger(fallback, profile_map, tier="X")
    for f in fills:
        ledger.on_fill(f)
    expected = calc_fees_and_rebates(fills, fallback, profile_map, tier="X").to_dict()
    assert ledger.section() == expected
    assert dumps(ledger.section()) == dumps(expected)
    shuffled = list(fills)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert calc_fees_and_rebates(shuffled, fallback, profile_map, tier="X").to_dict() == expected
    fees = ledger.fees_by_symbol()
    rebates = ledger.rebates_by_symbol()
    for sym, entry in expected["by_symbol"].items():
        assert fees[sym] == entry["maker_fees"] + entry["taker_fees"]
        assert rebates[sym] == entry["maker_rebates"]


def test_ledger_keeps_no_fills() -> None:
    ledger = FeeLedger(VIP0_PROFILE)
    for n in range(1000):
        ledger.on_fill(fill("BTCUSDT", "BUY", "1", "100", n % 2 == 0, n))
    assert not hasattr(ledger, "__dict__")  # slotted: only per-symbol running sums
    assert ledger.report().total.fills == 1000
    assert ledger.report().total.maker_fees == Decimal(500 * 100) / 10000


def test_tiers_all_priced() -> None:
    for name, schedule in TIERS.items():
        money = fill_fees(fill("BTCUSDT", "BUY", "2", "5000", True), schedule)
        assert money.notional == 10000
        assert money.fee == schedule.maker_bps and money.rebate == schedule.maker_rebate_bps, name
        assert money.net_cost == schedule.maker_bps - schedule.maker_rebate_bps
