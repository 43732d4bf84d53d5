"""The synthetic market: seeded per-symbol random walks on a tick grid, sane prices, an edge signal."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.engine.market import DEFAULT_REFERENCE_PRICE, Instrument, SyntheticMarket


def _path(market: SyntheticMarket, symbol: str, n: int) -> list[tuple[int, int, float]]:
    step = market.walk(symbol)
    return [step() for _ in range(n)]


def _mid(market: SyntheticMarket, symbol: str, bid: int, ask: int) -> Decimal:
    return (market.to_price(symbol, bid) + market.to_price(symbol, ask)) / 2


def test_reference_prices_are_sane() -> None:
    market = SyntheticMarket(["BTCUSDT", "ETHUSDT", "NEWCOINUSDT"])
    assert market.instruments["BTCUSDT"].ref_price == Decimal("50000")
    assert market.instruments["ETHUSDT"].ref_price == Decimal("3000")
    assert market.instruments["NEWCOINUSDT"].ref_price == DEFAULT_REFERENCE_PRICE
    for symbol, inst in market.instruments.items():
        bid, ask, _ = market.step(symbol)
        mid = _mid(market, symbol, bid, ask)
        assert abs(mid - inst.ref_price) / inst.ref_price < Decimal("0.01")  # first quote near the reference


def test_reference_prices_are_configurable() -> None:
    refs = {"BTCUSDT": Decimal("60000"), "SOMEUSDT": Decimal("2.5")}
    market = SyntheticMarket(["BTCUSDT", "SOMEUSDT"], ref_prices=refs)
    assert market.instruments["BTCUSDT"].ref_price == Decimal("60000")
    assert market.instruments["SOMEUSDT"].ref_price == Decimal("2.5")
    bid, ask, _ = market.step("SOMEUSDT")
    assert Decimal("2.4") < _mid(market, "SOMEUSDT", bid, ask) < Decimal("2.6")


@pytest.mark.parametrize("bad", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
def test_non_positive_reference_price_is_refused(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="reference price"):
        SyntheticMarket(["BTCUSDT"], ref_prices={"BTCUSDT": bad})


def test_same_seed_same_path_other_seed_other_path() -> None:
    a = _path(SyntheticMarket(["BTCUSDT", "ETHUSDT"], seed=7), "BTCUSDT", 300)
    b = _path(SyntheticMarket(["BTCUSDT", "ETHUSDT"], seed=7), "BTCUSDT", 300)
    c = _path(SyntheticMarket(["BTCUSDT", "ETHUSDT"], seed=8), "BTCUSDT", 300)
    assert a == b
    assert a != c


def test_a_symbols_path_does_not_depend_on_the_other_symbols() -> None:
    alone = _path(SyntheticMarket(["ETHUSDT"], seed=3), "ETHUSDT", 200)
    crowd = SyntheticMarket(["SOLUSDT", "BTCUSDT", "ETHUSDT"], seed=3)
    # interleave steps of the other symbols: they must not disturb ETHUSDT's stream
    eth = crowd.walk("ETHUSDT")
    path = []
    for _ in range(200):
        crowd.step("BTCUSDT")
        path.append(eth())
        crowd.step("SOLUSDT")
    assert path == alone


def test_step_and_walk_advance_the_same_stream() -> None:
    m1, m2 = SyntheticMarket(["BTCUSDT"], seed=5), SyntheticMarket(["BTCUSDT"], seed=5)
    walk = m2.walk("BTCUSDT")
    assert [m1.step("BTCUSDT") for _ in range(50)] == [walk() for _ in range(50)]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    spread_bps=st.decimals(min_value=Decimal("0.1"), max_value=Decimal(200), places=1),
    volatility_bps=st.decimals(min_value=Decimal("0.1"), max_value=Decimal(2000), places=1),
)
def test_quotes_are_ordered_on_grid_and_stay_in_band(seed: int, spread_bps: Decimal,
                                                       volatility_bps: Decimal) -> None:
    symbols = ["BTCUSDT", "ETHUSDT", "DOGEUSDT"]
    market = SyntheticMarket(symbols, seed, spread_bps=spread_bps, volatility_bps=volatility_bps)
    for symbol in symbols:
        inst = market.instruments[symbol]
        step = market.walk(symbol)
        spreads = set()
        for _ in range(400):
            bid, ask, edge = step()
            assert isinstance(bid, int) and isinstance(ask, int)
            assert 0 < bid < ask
            spreads.add(ask - bid)
            mid = _mid(market, symbol, bid, ask)
            assert inst.ref_price / 4 <= mid <= inst.ref_price * 4
            assert isinstance(edge, float)
        assert len(spreads) == 1  # a constant spread of at least two ticks
        assert min(spreads) >= 2


def test_spread_matches_spread_bps() -> None:
    market = SyntheticMarket(["BTCUSDT"], spread_bps=Decimal(4))
    bid, ask, _ = market.step("BTCUSDT")
    spread = market.to_price("BTCUSDT", ask) - market.to_price("BTCUSDT", bid)
    assert spread == Decimal("20.0")  # 4 bps of 50,000
    assert market.to_price("BTCUSDT", 500_000) == Decimal("50000.0")


def test_long_volatile_walk_reflects_at_the_band_edges() -> None:
    market = SyntheticMarket(["ETHUSDT"], seed=1, volatility_bps=Decimal(1500))
    inst = market.instruments["ETHUSDT"]
    mids = [_mid(market, "ETHUSDT", b, a) for b, a, _ in _path(market, "ETHUSDT", 5000)]
    assert min(mids) >= inst.ref_price / 4
    assert max(mids) <= inst.ref_price * 4
    assert min(mids) < inst.ref_price / 2 and max(mids) > inst.ref_price * 2  # it did travel to the edges


def test_edge_signal_reverts_to_its_mean_and_can_fall_below_a_threshold() -> None:
    edges = [e for _, _, e in _path(SyntheticMarket(["BTCUSDT"], seed=42), "BTCUSDT", 20_000)]
    assert abs(statistics.fmean(edges) - 3.0) < 0.5
    below = sum(e < 1.5 for e in edges)
    assert 0 < below < len(edges) / 2


def test_edge_mean_is_configurable() -> None:
    edges = [e for _, _, e in _path(SyntheticMarket(["BTCUSDT"], edge_mean_bps=10.0), "BTCUSDT", 5000)]
    assert abs(statistics.fmean(edges) - 10.0) < 0.5


@pytest.mark.parametrize(
    ("ref", "tick", "lot"),
    [
        (Decimal("50000"), Decimal("0.1"), Decimal("0.001")),
        (Decimal("3000"), Decimal("0.01"), Decimal("0.01")),
        (Decimal("0.15"), Decimal("0.000001"), Decimal("1")),
    ],
)
def test_instrument_grids_for_common_prices(ref: Decimal, tick: Decimal, lot: Decimal) -> None:
    inst = Instrument.for_symbol("X", ref, Decimal("1000"))
    assert inst.tick_size == tick
    assert inst.lot_size == lot


@settings(max_examples=150, deadline=None)
@given(
    ref=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10_000_000), places=4),
    notional=st.decimals(min_value=Decimal(1), max_value=Decimal(1_000_000), places=2),
)
def test_instrument_quote_size_is_whole_lots_worth_about_the_notional(ref: Decimal, notional: Decimal) -> None:
    if ref <= 0:
        return
    inst = Instrument.for_symbol("X", ref, notional)
    assert inst.tick_size > 0 and inst.lot_size > 0
    assert inst.order_qty > 0
    assert inst.order_qty % inst.lot_size == 0
    assert inst.ref_price % inst.tick_size == 0
    assert abs(inst.ref_price - ref) <= inst.tick_size
    # whole lots, rounded down: worth at most the notional, and less than one lot short of it
    assert inst.order_qty * ref <= notional
    assert inst.order_qty * ref > notional - inst.lot_size * ref
    # price grid fine enough: a tick is at most 1 bp of the price
    assert inst.tick_size <= inst.ref_price / 10_000
