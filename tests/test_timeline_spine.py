"""The timeline on the run spine: spec keys, the loop's public hooks, read-only views, the last point."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.accounting import timeline_feed
from mmexec.accounting.ledger import FeeLedger
from mmexec.accounting.pnl import Holding, PnlTracker
from mmexec.accounting.timeline import SymbolState, TimelineRecorder
from mmexec.engine.models import FillEvent, Side
from mmexec.fees.schedule import FeeSchedule
from mmexec.run.builder import build_run, run_spec
from mmexec.run.spec import RunSpec, TimelineSpec

UTC = "2025-01-01T00:00:00Z"


def _state(mid: int) -> SymbolState:
    zero = Decimal(0)
    return SymbolState(Decimal(mid), None, None, None, None, zero, zero, zero, zero, zero, zero, 0)


def test_spec_carries_the_timeline_keys_and_the_config_shows_them() -> None:
    spec = RunSpec.from_settings({"sample_ms": 300, "max_samples": 64}, strict=True)
    assert spec.timeline == TimelineSpec(sample_ms=300, max_samples=64)
    assert RunSpec().replace(sample_ms=500).timeline.sample_ms == 500
    section = RunSpec().config_section()
    assert section["sample_ms"] is None and section["max_samples"] == 1000


def test_the_timeline_is_one_part_of_the_result_and_hooks_into_the_loop() -> None:
    run = build_run(RunSpec().replace(iterations=10, sample_ms=300), utc=UTC)
    loop, timeline = run.loop, run.timeline
    assert timeline.on_step in loop.step_hooks and timeline.on_risk in loop.risk_listeners
    assert timeline.recorder in loop.tick_listeners  # fills in integers (TickFillListener)
    loop.run(run.params())
    assert run.result()["timeline"]["t_ms"] == [300, 600, 900, 1000]


def test_finish_replaces_a_sample_taken_at_the_same_time() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=100)
    recorder.sample(100, {"X": _state(1)})
    recorder.sample(200, {"X": _state(2)})
    recorder.finish(200, {"X": _state(3)})  # e.g. fills applied as the run ends, at the last step's time
    section = recorder.section()
    assert section["t_ms"] == [100, 200]
    assert section["symbols"]["X"]["mid"] == [Decimal(1), Decimal(3)]


@pytest.mark.parametrize("latency_ms", [0, 100])
@pytest.mark.parametrize("seed", range(8))
def test_last_point_equals_the_report_totals(seed: int, latency_ms: int) -> None:
    """With zero latency, orders placed in the last step fill as the run ends, after that step's sample."""
    report = run_spec(RunSpec().replace(iterations=30, seed=seed, latency_ms=latency_ms, partial_fill_rate=0.5,
                                        edge_threshold=Decimal(-1000)), utc=UTC).to_report()
    timeline = report["timeline"]
    assert timeline["t_ms"][-1] == report["execution"]["virtual_ms"]
    for symbol, columns in timeline["symbols"].items():
        money = report["pnl"]["by_symbol"][symbol]
        assert (columns["position"][-1], columns["realized"][-1], columns["net"][-1], columns["fees"][-1]) == (
            money["position"], money["realized"], money["net"], money["fees"])
    fills = [e for e in timeline["events"] if e["kind"] == "fill"]
    assert len(fills) == report["orders"]["fills"]


def test_read_only_views_of_pnl_and_fees() -> None:
    fill = FillEvent("o1", "c1", "BTCUSDT", Side.BUY, Decimal("0.02"), Decimal("50000"), 1, is_maker=True)
    pnl = PnlTracker()
    assert pnl.holding("BTCUSDT") == Holding(Decimal(0), Decimal(0), Decimal(0))
    pnl.on_fill(fill)
    assert pnl.holding("BTCUSDT") == Holding(Decimal("0.02"), Decimal("1000.00"), Decimal(0))
    ledger = FeeLedger(FeeSchedule(maker_bps=Decimal(1), taker_bps=Decimal(7)))
    ledger.record(fill)
    totals = ledger.totals()
    assert totals["BTCUSDT"].maker_notional == Decimal("1000.00")
    with pytest.raises(TypeError):
        totals["ETHUSDT"] = totals["BTCUSDT"]  # type: ignore[index]


def test_the_feed_reads_no_private_state_of_other_objects() -> None:
    """Only ``self._x``: the loop, order store, PnL tracker and fee ledger are read through public views."""
    source = Path(timeline_feed.__file__).with_name("timeline_feed.py")  # the .py, also when compiled
    tree = ast.parse(source.read_text(encoding="utf-8"))
    private = [
        f"line {node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]
    assert private == []
