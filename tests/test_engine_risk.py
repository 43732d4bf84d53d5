"""RuntimeRiskMonitor: worst-case limits per symbol and in total, exact positions, the latched edge freeze."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mmexec.compat import RuntimeRiskMonitor
from mmexec.engine.models import Side
from mmexec.engine.risk import FREEZE_REASON_EDGE, FreezeEvent

D = Decimal
BTC = D(50000)


def _risk(max_inv: object = 10000, max_total: object = 50000, threshold: object = 1.5) -> RuntimeRiskMonitor:
    return RuntimeRiskMonitor(max_inv, max_total, threshold)  # type: ignore[arg-type]


def _open(risk: RuntimeRiskMonitor, symbol: str, side: Side, qty: str, price: Decimal = BTC) -> None:
    assert risk.check_before_order(symbol, side, qty, price)
    risk.on_order_open(symbol, side, qty, price)


def test_limits_are_read_exactly() -> None:
    risk = _risk(10000.1, "50000", 1.5)
    assert risk.max_inventory_usd_per_symbol == D("10000.1")
    assert risk.max_total_notional_usd == D(50000)
    assert risk.edge_freeze_threshold_bps == D("1.5")


@pytest.mark.parametrize(
    "args",
    [(-1, 50000, 1.5), (10000, -0.01, 1.5), ("NaN", 50000, 1.5), (10000, "Infinity", 1.5), (10000, 50000, "NaN")],
)
def test_invalid_limits_are_refused(args: tuple[object, object, object]) -> None:
    with pytest.raises(ValueError):
        _risk(*args)


def test_order_within_limit_is_allowed_and_boundary_is_inclusive() -> None:
    risk = _risk()
    assert risk.check_before_order("BTCUSDT", Side.BUY, "0.2", BTC)  # 10,000 == limit
    assert risk.check_before_order("BTCUSDT", "SELL", D("0.2"), BTC)
    assert risk.blocks_total == 0


def test_order_above_limit_is_blocked_and_counted() -> None:
    risk = _risk()
    assert not risk.check_before_order("BTCUSDT", Side.BUY, "0.2", "50000.01")
    assert risk.blocks_total == 1
    assert risk.last_block_reason == "max_inventory_usd_per_symbol"


def test_open_orders_on_the_same_side_count_in_the_worst_case() -> None:
    risk = _risk()
    _open(risk, "BTCUSDT", Side.BUY, "0.12")  # 6,000 reserved
    assert risk.open_exposure("BTCUSDT") == (D("6000.00"), D(0))
    assert not risk.check_before_order("BTCUSDT", Side.BUY, "0.1", BTC)  # 6,000 + 5,000 > 10,000
    assert risk.check_before_order("BTCUSDT", Side.BUY, "0.08", BTC)  # 6,000 + 4,000 == 10,000
    # the other side does not add to the buy worst case: a sell may rest at the same time
    assert risk.check_before_order("BTCUSDT", Side.SELL, "0.2", BTC)
    assert risk.blocks_total == 1


def test_released_exposure_frees_the_limit() -> None:
    risk = _risk()
    _open(risk, "BTCUSDT", Side.BUY, "0.2")
    assert not risk.check_before_order("BTCUSDT", Side.BUY, "0.001", BTC)
    risk.on_order_release("BTCUSDT", Side.BUY, "0.2", BTC)  # canceled
    assert risk.open_exposure("BTCUSDT") == (D(0), D(0))
    assert risk.check_before_order("BTCUSDT", Side.BUY, "0.2", BTC)


def test_position_counts_and_reducing_orders_are_allowed() -> None:
    risk = _risk()
    risk.on_fill("BTCUSDT", Side.BUY, "0.15", BTC)  # long 7,500
    assert not risk.check_before_order("BTCUSDT", Side.BUY, "0.06", BTC)  # 7,500 + 3,000
    assert risk.check_before_order("BTCUSDT", Side.BUY, "0.05", BTC)  # 7,500 + 2,500
    # selling reduces the long: |7,500 - 15,000| = 7,500
    assert risk.check_before_order("BTCUSDT", Side.SELL, "0.3", BTC)
    # but selling through to a short beyond the limit does not: |7,500 - 17,550| > 10,000
    assert not risk.check_before_order("BTCUSDT", Side.SELL, "0.351", BTC)
    assert risk.blocks_total == 2


def test_short_position_is_symmetric() -> None:
    risk = _risk()
    risk.on_fill("ETHUSDT", Side.SELL, "3", 3000)  # short 9,000
    assert not risk.check_before_order("ETHUSDT", Side.SELL, "0.34", 3000)
    assert risk.check_before_order("ETHUSDT", Side.SELL, "0.33", 3000)
    assert risk.check_before_order("ETHUSDT", Side.BUY, "6.33", 3000)  # flips to long 9,990


def test_positions_are_exact_sums_of_fills() -> None:
    risk = _risk(10**9, 10**9)
    for qty in ("0.1", "0.05", "0.1", "0.05"):
        risk.on_fill("BTCUSDT", Side.BUY, qty, BTC)
    risk.on_fill("BTCUSDT", "SELL", 0.15, BTC)
    risk.on_fill("ETHUSDT", Side.SELL, "0.33", 3000)
    assert risk.get_positions() == {"BTCUSDT": D("0.15"), "ETHUSDT": D("-0.33")}
    assert str(risk.get_positions()["BTCUSDT"]) == "0.15"


def test_total_limit_sums_the_worst_case_of_every_symbol() -> None:
    risk = _risk(max_inv=10000, max_total=15000)
    _open(risk, "BTCUSDT", Side.BUY, "0.16")  # 8,000
    _open(risk, "ETHUSDT", Side.SELL, "2", D(3000))  # 6,000
    assert risk.worst_case_total() == D("14000")
    assert not risk.check_before_order("SOLUSDT", Side.BUY, "10", D(150))  # 14,000 + 1,500 > 15,000
    assert risk.last_block_reason == "max_total_notional_usd"
    assert risk.check_before_order("SOLUSDT", Side.BUY, "6", D(150))  # 14,000 + 900
    # adding to a symbol's smaller side does not raise its worst case: still 8,000 for BTC
    assert risk.check_before_order("BTCUSDT", Side.SELL, "0.1", BTC)
    # but growing its larger side does: 14,000 - 8,000 + 9,500 > 15,000
    assert not risk.check_before_order("BTCUSDT", Side.BUY, "0.03", BTC)


def test_total_uses_the_larger_of_both_sides_per_symbol() -> None:
    risk = _risk(max_inv=10000, max_total=12000)
    _open(risk, "BTCUSDT", Side.BUY, "0.1")  # buy worst 5,000
    _open(risk, "BTCUSDT", Side.SELL, "0.14")  # sell worst 7,000
    assert risk.worst_case_total() == D(7000)
    assert not risk.check_before_order("ETHUSDT", Side.BUY, "1.67", D(3000))  # 7,000 + 5,010
    assert risk.check_before_order("ETHUSDT", Side.BUY, "1.66", D(3000))


def test_on_mark_revalues_the_position() -> None:
    risk = _risk(max_inv=10**9, max_total=10**9)
    risk.on_fill("BTCUSDT", Side.BUY, "0.1", BTC)
    assert risk.worst_case_total() == D(5000)
    risk.on_mark("BTCUSDT", 60000)
    assert risk.worst_case_total() == D(6000)


def test_evaluate_is_pure() -> None:
    risk = _risk()
    version = risk.version
    assert risk.evaluate("BTCUSDT", Side.BUY, D(1), BTC) == "max_inventory_usd_per_symbol"
    assert risk.evaluate("BTCUSDT", Side.BUY, D("0.01"), BTC) is None
    assert risk.blocks_total == 0
    assert risk.version == version
    assert risk.get_positions() == {}


def test_state_changes_bump_the_version() -> None:
    risk = _risk()
    seen = [risk.version]
    risk.on_order_open("BTCUSDT", Side.BUY, 1, 1)
    seen.append(risk.version)
    risk.on_fill("BTCUSDT", Side.BUY, 1, 1)
    seen.append(risk.version)
    risk.on_edge_update("BTCUSDT", 0)
    seen.append(risk.version)
    risk.unfreeze()
    seen.append(risk.version)
    assert seen == sorted(set(seen))


# ---------------------------------------------------------------- freeze
def test_edge_at_or_above_threshold_does_not_freeze() -> None:
    risk = _risk(threshold="1.5")
    assert risk.on_edge_update("BTCUSDT", 3.0) is False
    assert risk.on_edge_update("BTCUSDT", D("1.5")) is False  # "below" is strict
    assert risk.on_edge_update("BTCUSDT", 1.5) is False
    assert not risk.is_frozen()
    assert risk.freezes_total == 0 and risk.last_freeze_reason is None and risk.last_freeze_symbol is None


def test_edge_below_threshold_freezes_and_records_the_event() -> None:
    risk = _risk(threshold=1.5)
    assert risk.on_edge_update("ETHUSDT", 1.29861234, timestamp_ms=1234) is True
    assert risk.is_frozen()
    assert risk.last_freeze_reason == FREEZE_REASON_EDGE == "Edge below threshold"
    assert risk.last_freeze_symbol == "ETHUSDT"
    assert risk.freezes_total == 1
    assert list(risk.freeze_log) == [FreezeEvent("ETHUSDT", FREEZE_REASON_EDGE, D("1.29861234"), D("1.5"), 1234)]
    assert risk.freeze_log[0].to_dict() == {
        "symbol": "ETHUSDT", "reason": "Edge below threshold", "edge_bps": D("1.29861234"),
        "threshold_bps": D("1.5"), "timestamp_ms": 1234,
    }


def test_edge_just_below_threshold_freezes() -> None:
    risk = _risk(threshold="1.5")
    assert risk.on_edge_update("BTCUSDT", 1.4999999999999998) is True  # the float right below 1.5


def test_string_edges_are_accepted() -> None:
    risk = _risk(threshold="1.5")
    assert risk.on_edge_update("BTCUSDT", "2") is False
    assert risk.on_edge_update("BTCUSDT", "-0.5") is True
    assert risk.freeze_log[-1].edge_bps == D("-0.5000")


def test_freeze_is_latched_and_blocks_every_order() -> None:
    risk = _risk()
    risk.on_edge_update("BTCUSDT", 1.0)
    assert risk.on_edge_update("ETHUSDT", 0.5) is False  # already frozen: not a new freeze
    assert risk.on_edge_update("BTCUSDT", 5.0) is False
    assert risk.is_frozen()  # a recovered edge does not lift it by itself
    assert risk.freezes_total == 1 and risk.last_freeze_symbol == "BTCUSDT"
    assert not risk.check_before_order("BTCUSDT", Side.SELL, "0.0001", BTC)
    assert risk.blocks_total == 1 and risk.last_block_reason == "frozen"


def test_unfreeze_lifts_the_latch_once() -> None:
    risk = _risk()
    assert risk.unfreeze() is False
    risk.on_edge_update("BTCUSDT", 1.0)
    assert risk.unfreeze() is True
    assert not risk.is_frozen()
    assert risk.unfreeze() is False
    assert risk.unfreezes_total == 1
    assert risk.check_before_order("BTCUSDT", Side.BUY, "0.01", BTC)
    assert risk.on_edge_update("BTCUSDT", 1.0) is True  # can freeze again
    assert risk.freezes_total == 2


def test_edges_recovered_looks_at_the_latest_edge_of_every_symbol() -> None:
    risk = _risk(threshold=1.5)
    assert risk.edges_recovered()
    risk.on_edge_update("BTCUSDT", 1.0)
    risk.on_edge_update("ETHUSDT", 2.0)
    assert not risk.edges_recovered()
    risk.on_edge_update("BTCUSDT", 1.5)
    assert risk.edges_recovered()


def test_freeze_log_is_bounded_but_the_total_counts_every_freeze() -> None:
    risk = _risk()
    for i in range(250):
        risk.on_edge_update("BTCUSDT", 0, timestamp_ms=i)
        risk.unfreeze()
    assert risk.freezes_total == 250
    assert 0 < len(risk.freeze_log) <= 250
    assert risk.freeze_log[-1].timestamp_ms == 249  # the newest events are kept


def test_manual_freeze_with_a_reason() -> None:
    risk = _risk()
    risk.freeze("operator kill switch", "*")
    assert risk.is_frozen()
    assert risk.last_freeze_reason == "operator kill switch"
    assert risk.freeze_log[-1].edge_bps is None  # no edge reading behind a manual freeze


@pytest.mark.parametrize("edge", [float("nan"), "NaN", D("NaN")])
def test_non_finite_edge_fails_safe(edge: object) -> None:
    # A broken edge signal must not crash the kill switch: the safe answer is to freeze.
    risk = _risk()
    risk.on_edge_update("BTCUSDT", edge)  # type: ignore[arg-type]
    assert risk.is_frozen()
    assert risk.freezes_total == 1
    assert risk.last_freeze_symbol == "BTCUSDT"
    assert risk.last_freeze_reason  # a reason is recorded
    assert risk.freeze_log[-1].edge_bps is None  # no number to record
    assert risk.on_edge_update("ETHUSDT", edge) is False  # latched: no second event
    assert risk.freezes_total == 1


def test_a_nan_edge_is_not_a_recovered_edge() -> None:
    risk = _risk()
    risk.on_edge_update("BTCUSDT", float("nan"))
    assert risk.edges_recovered() is False


def test_minus_infinity_edge_freezes() -> None:
    risk = _risk()
    assert risk.on_edge_update("BTCUSDT", float("-inf")) is True
    assert risk.is_frozen()
    assert risk.last_freeze_reason == FREEZE_REASON_EDGE
    assert risk.freeze_log[-1].edge_bps is None
