"""The engine-side findings of the audit (#9 sections 2, 6, 9): each test failed before its fix."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.compat import (
    BybitRestClient,
    ExecutionLoop,
    ExecutionParams,  # the original API: it carries the test's risk limits too
    FakeExchangeClient,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
    run_shadow_demo,
)
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import OrderState, Side
from mmexec.engine.ports import Venue
from mmexec.engine.risk import FREEZE_REASON_EDGE
from mmexec.run.builder import VIRTUAL_EPOCH_MS, build_run
from mmexec.run.spec import RunSpec
from mmexec.secrets.provider import SecretProvider

ROOT = Path(__file__).resolve().parents[1]
D = Decimal


# ---------------------------------------------------------------- 2. determinism
def test_virtual_time_starts_at_a_fixed_epoch_whatever_the_stamp() -> None:
    fills: dict[str, list[int]] = {}
    for utc in ("2025-01-01T00:00:00Z", "2031-07-04T12:00:00Z"):
        seen: list[int] = []
        run = build_run(RunSpec.from_settings({"iterations": 40}), utc=utc,
                        fill_listeners=[lambda f, seen=seen: seen.append(f.timestamp_ms)])  # type: ignore[misc]
        run.loop.run(run.params())
        fills[utc] = seen
    first, second = fills.values()
    assert first and first == second
    assert min(first) > VIRTUAL_EPOCH_MS == 1_735_689_600_000  # 2025-01-01T00:00:00Z, documented in the README


def test_cli_fills_file_does_not_follow_the_wall_clock(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.delenv("MM_FREEZE_UTC_ISO")
    outputs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.jsonl"
        result = cli("shadow", "--iterations", "30", "--fills-out", str(path), "--edge-threshold", "0")
        assert result.exit_code == 0, result.stderr
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_python_loop_honours_mm_freeze_utc_iso(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MM_FREEZE_UTC_ISO", "2024-02-29T10:00:00+01:00")
    loop = ExecutionLoop(FakeExchangeClient(seed=1), InMemoryOrderStore(), RuntimeRiskMonitor(10000, 50000, 1.5))
    report = loop.run_shadow(ExecutionParams(symbols=["BTCUSDT"], iterations=5))
    assert report["runtime"]["utc"] == "2024-02-29T09:00:00Z"


def test_run_shadow_twice_reports_consistent_quotes_and_iterations() -> None:
    loop = ExecutionLoop(FakeExchangeClient(seed=1), InMemoryOrderStore(), RuntimeRiskMonitor(10000, 50000, 1.5))
    params = ExecutionParams(symbols=["BTCUSDT", "ETHUSDT"], iterations=10, utc="2025-01-01T00:00:00Z")
    for _ in range(2):
        execution = loop.run_shadow(params)["execution"]
        assert execution["quotes"] == execution["iterations"] * 2 == 20
        assert execution["virtual_ms"] == 1000


@given(st.floats(min_value=-10, max_value=10, allow_nan=False), st.decimals(min_value=-10, max_value=10, places=6))
def test_freeze_log_never_contradicts_the_decision(edge: float, threshold: Decimal) -> None:
    risk = RuntimeRiskMonitor(10000, 50000, threshold)
    froze = risk.on_edge_update("BTCUSDT", edge)
    assert froze == (edge < threshold)
    if froze:
        logged = risk.freeze_log[-1].edge_bps
        assert logged is not None and logged < threshold


def test_freeze_log_case_from_the_audit() -> None:
    risk = RuntimeRiskMonitor(10000, 50000, D("3.3149"))
    assert risk.on_edge_update("BTCUSDT", 3.3148822)
    assert risk.freeze_log[-1].edge_bps == D("3.3148822")


# ---------------------------------------------------------------- 6. risk
@given(
    pos_lots=st.integers(-400, 400),
    open_buy=st.integers(0, 20_000),
    open_sell=st.integers(0, 20_000),
    price=st.integers(1, 100_000),
    qty_lots=st.integers(1, 400),
    side=st.sampled_from(list(Side)),
    max_inv=st.integers(0, 20_000),
)
def test_an_order_that_reduces_its_worst_case_is_never_blocked(pos_lots: int, open_buy: int, open_sell: int,
                                                               price: int, qty_lots: int, side: Side,
                                                               max_inv: int) -> None:
    risk = RuntimeRiskMonitor(max_inv, 0, 1.5)  # max_total 0: every limit would refuse anything that adds
    pos, qty, px = D(pos_lots) / 100, D(qty_lots) / 100, D(price)
    if pos:
        risk.apply_fill("BTCUSDT", Side.BUY if pos > 0 else Side.SELL, abs(pos), px)
    risk.reserve("BTCUSDT", Side.BUY, D(open_buy))
    risk.reserve("BTCUSDT", Side.SELL, D(open_sell))
    before = pos * px + open_buy if side is Side.BUY else pos * px - open_sell
    after = before + qty * px if side is Side.BUY else before - qty * px
    if abs(after) <= abs(before):
        assert risk.evaluate("BTCUSDT", side, qty, px) is None


def test_unwinding_a_long_past_the_limit_is_allowed() -> None:
    risk = RuntimeRiskMonitor(10000, 50000, 1.5)
    risk.apply_fill("BTCUSDT", Side.BUY, D("0.24"), D(50000))  # 12,000 USD long after the price drifted
    assert risk.check_before_order("BTCUSDT", Side.SELL, D("0.024"), D(50000))  # 12,000 -> 10,800
    assert not risk.check_before_order("BTCUSDT", Side.BUY, D("0.001"), D(50000))  # adding stays blocked


def test_total_limit_values_every_symbol_at_its_latest_mid() -> None:
    risk = RuntimeRiskMonitor(100_000, 20_000, 1.5)
    risk.apply_fill("ETHUSDT", Side.BUY, D(5), D(3000))  # 15,000 at the fill price
    risk.mark_ticks("ETHUSDT", 2 * 400_000, D("0.01"))  # the mid is now 4,000: 20,000
    assert risk.worst_case_total() == 20_000
    assert risk.evaluate("BTCUSDT", Side.BUY, D("0.02"), D(50000)) == "max_total_notional_usd"


def test_the_loop_marks_every_symbol_at_its_mid_each_step() -> None:
    clock = VirtualClock(0)
    exchange = FakeExchangeClient(fill_rate=0.5, reject_rate=0.0, seed=3, clock=clock)
    risk = RuntimeRiskMonitor(10000, 50000, -1000)
    loop = ExecutionLoop(exchange, InMemoryOrderStore(), risk)
    checked = []

    def check(_now: int) -> None:
        for symbol, mid in loop.last_mids().items():
            pos = risk.position(symbol)
            if pos and mid is not None:
                open_buy, open_sell = risk.open_exposure(symbol)
                checked.append(symbol)
                worst = max(abs(pos * mid + open_buy), abs(pos * mid - open_sell))
                assert worst <= risk.worst_case_total()

    loop.step_hooks.append(check)
    loop.run(ExecutionParams(symbols=["BTCUSDT"], iterations=60))
    assert checked
    mid = loop.last_mids()["BTCUSDT"]
    pos = risk.position("BTCUSDT")
    open_buy, open_sell = risk.open_exposure("BTCUSDT")
    assert mid is not None
    assert risk.worst_case_total() == max(abs(pos * mid + open_buy), abs(pos * mid - open_sell))


def _fake(clock: VirtualClock) -> Venue:
    return FakeExchangeClient(fill_rate=1.0, reject_rate=0.0, partial_fill_rate=1.0, latency_ms=100, seed=5,
                              clock=clock)


def _bybit(clock: VirtualClock) -> Venue:
    provider = SecretProvider(backend="memory")
    provider.save("bybit", "dev", api_key="AKraceKey", api_secret="SKraceSecret")
    return BybitRestClient(provider, fill_rate=1.0, partial_fill_rate=1.0, fill_latency_ms=100, seed=5,
                           clock=clock)


@pytest.mark.parametrize("make_venue", [_fake, _bybit], ids=["fake", "bybit"])
def test_a_fill_that_races_a_cancel_is_applied(make_venue: Any) -> None:
    clock = VirtualClock(VIRTUAL_EPOCH_MS)
    venue = make_venue(clock)
    store = InMemoryOrderStore()
    risk = RuntimeRiskMonitor(10000, 50000, 1.5)
    loop = ExecutionLoop(venue, store, risk, clock=clock)
    seen = []
    loop.fill_listeners.append(seen.append)
    params = ExecutionParams(symbols=["BTCUSDT"], iterations=0)
    loop.on_quote(__import__("mmexec").Quote("BTCUSDT", 49990, 50010), params)
    clock.advance(150)  # the first part of each order is due; the loop has not polled yet
    assert loop.on_edge_update("BTCUSDT", 1.0)  # freeze: cancel everything (the venue fills the due parts first)
    loop.on_fill()
    assert seen, "the fills that came due before the cancel were lost"
    venue_positions = {p.symbol: p.qty for p in venue.get_positions()}
    assert store.get_positions()["BTCUSDT"] == risk.position("BTCUSDT") == venue_positions["BTCUSDT"]
    for order in store.orders():
        assert order.state is OrderState.CANCELED and 0 < order.filled_qty < order.qty
    assert risk.open_exposure("BTCUSDT") == (0, 0)  # only the remainders were released, nothing is left
    assert loop.stats.late_fills == len(seen)


class _StuckCancels(FakeExchangeClient):
    """A venue that refuses every cancel (e.g. rate-limited)."""

    def cancel(self, order_id: str) -> bool:
        return False


def test_no_replacement_when_a_cancel_failed() -> None:
    venue = _StuckCancels(fill_rate=0.0, reject_rate=0.0, seed=1)
    loop = ExecutionLoop(venue, InMemoryOrderStore(), RuntimeRiskMonitor(10000, 50000, 1.5))
    params = ExecutionParams(symbols=["BTCUSDT"], iterations=0)
    quote = __import__("mmexec").Quote
    loop.on_quote(quote("BTCUSDT", 50000, 50010), params)
    loop.on_quote(quote("BTCUSDT", 50500, 50510), params)  # far beyond requote_bps: replace both sides
    assert loop.stats.cancel_failures == 2
    assert len(venue.get_open_orders()) == 2  # still one per side
    assert loop.stats.placed == 2


def test_freeze_notice_comes_from_the_engine_and_the_cli_prints_it(cli: Any) -> None:
    notices = []
    loop = ExecutionLoop(FakeExchangeClient(seed=1), InMemoryOrderStore(), RuntimeRiskMonitor(10000, 50000, 2.2))
    loop.risk_listeners.append(notices.append)
    loop.run(ExecutionParams(symbols=["BTCUSDT", "ETHUSDT"], iterations=100, edge_freeze_threshold_bps="2.2"))
    assert len(notices) == 1 and notices[0].frozen and notices[0].reason == FREEZE_REASON_EDGE
    assert notices[0].edge_bps is not None and notices[0].edge_bps < notices[0].threshold_bps
    result = cli("shadow", "--symbols", "BTCUSDT,ETHUSDT", "--iterations", "100", "--edge-threshold", "2.2")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines == [
        "warning: trading frozen at 500 ms: BTCUSDT edge 2.0443651385995643 bps is below the threshold 2.2 bps "
        "(Edge below threshold); open orders canceled, no order follows for the rest of the run "
        "(--unfreeze-after-ms N lifts a freeze after N virtual ms)"
    ]
    assert json.loads(result.stdout)["risk"]["freeze_log"][0]["edge_bps"] == 2.0443651385995643


# ---------------------------------------------------------------- 9. small
def test_run_shadow_demo_refuses_unknown_keywords() -> None:
    with pytest.raises(TypeError, match="fill_ratee"):
        run_shadow_demo(iterations=1, fill_ratee=0.5)


def test_no_extra_installs_an_sdk_mmexec_never_imports() -> None:
    """`live` installs websockets (the public feed), never a trading SDK such as pybit."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert not any("pybit" in dep for name, deps in extras.items() if name != "dev" for dep in deps)
