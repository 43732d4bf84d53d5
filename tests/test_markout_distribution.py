"""The markout section's distribution: per horizon, counts of net markouts in fixed bps buckets."""

from __future__ import annotations

from bisect import bisect_right
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from mmexec.accounting.markout import BUCKET_EDGES_BPS, HORIZONS_MS, MarkoutTracker, horizon_label
from mmexec.engine.models import FillEvent, Side

TICK = Decimal("0.1")


def tracker(fee_bps: str = "0") -> MarkoutTracker:
    return MarkoutTracker(["BTCUSDT"], {"BTCUSDT": TICK}, {"BTCUSDT": Decimal(fee_bps)}, edge_window=1000)


def fill(side: Side, price: str, at_ms: int = 0) -> FillEvent:
    return FillEvent("c", "o", "BTCUSDT", side, Decimal("0.001"), Decimal(price), at_ms)


def test_buckets_are_half_open_and_net_of_fees() -> None:
    markouts = tracker(fee_bps="1")
    markouts.on_execution(fill(Side.BUY, "10000"))  # mid 10000.2 later: +0.2 bps gross, -0.8 net
    markouts.on_execution(fill(Side.SELL, "10000"))  # -0.2 gross, -1.2 net
    markouts.on_execution(fill(Side.BUY, "9999.9"))  # +0.3 gross (to 1/10,000), -0.7 net
    markouts.advance("BTCUSDT", 40_000, 200_004)  # mid2 in ticks: 10000.2
    section = markouts.section()
    dist = section["distribution"]
    assert dist["measure"] == "net_bps" and dist["edges_bps"] == list(BUCKET_EDGES_BPS)
    assert set(dist["counts"]) == {horizon_label(h) for h in HORIZONS_MS}
    counts = dist["counts"]["1s"]
    assert len(counts) == len(BUCKET_EDGES_BPS) + 1 and sum(counts) == 3
    edges = [str(e) for e in BUCKET_EDGES_BPS]
    assert counts[edges.index("-1") + 1] == 2  # -0.8 and -0.7 in [-1, -0.5)
    assert counts[edges.index("-2") + 1] == 1  # -1.2 in [-2, -1)
    markouts = tracker()
    markouts.on_execution(fill(Side.BUY, "10000"))
    markouts.advance("BTCUSDT", 40_000, 200_000)  # exactly 0 bps: the bucket [0, 0.2)
    assert markouts.section()["distribution"]["counts"]["5s"][edges.index("0") + 1] == 1


@given(st.lists(st.tuples(st.booleans(), st.integers(99_000, 101_000), st.integers(190_000, 210_000)),
                min_size=1, max_size=30))
def test_counts_add_up_and_match_each_fills_bucket(fills: list[tuple[bool, int, int]]) -> None:
    markouts = tracker(fee_bps="0.5")
    expected = [0] * (len(BUCKET_EDGES_BPS) + 1)
    for at, (buy, price_ticks, mid2) in enumerate(fills):
        price = price_ticks * TICK
        markouts.on_execution(fill(Side.BUY if buy else Side.SELL, str(price), at_ms=at * 100_000))
        markouts.advance("BTCUSDT", at * 100_000 + 50_000, mid2)
        mid = mid2 * TICK / 2
        gross = (mid - price) * 10_000 / price if buy else (price - mid) * 10_000 / price
        expected[bisect_right(BUCKET_EDGES_BPS, gross - Decimal("0.5"))] += 1
    section = markouts.section()
    for h in HORIZONS_MS:
        label = horizon_label(h)
        assert section["distribution"]["counts"][label] == expected
        assert sum(section["distribution"]["counts"][label]) == section["total"][label]["count"] == len(fills)
