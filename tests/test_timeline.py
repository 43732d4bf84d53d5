"""The run timeline: sampling grid, deterministic down-sampling, event caps, and the section of real runs."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.accounting.timeline import SERIES, SymbolState, TimelineRecorder, default_sample_ms
from mmexec.canonical import dumps
from mmexec.engine.models import FillEvent, Side
from mmexec.run.builder import run_session
from mmexec.run.spec import RunSpec

UTC = "2025-01-01T00:00:00Z"
ZERO = Decimal(0)


def state(mid: int) -> SymbolState:
    m = Decimal(mid)
    return SymbolState(mid=m, best_bid=m - 1, best_ask=m + 1, our_bid=None, our_ask=m + 1, position=ZERO,
                       realized=ZERO, unrealized=ZERO, net=ZERO, fees=ZERO, rebates=ZERO, open_orders=1)


def drive(recorder: TimelineRecorder, step_ms: int, steps: int) -> None:
    for k in range(1, steps + 1):
        t = k * step_ms
        if recorder.due(t):
            recorder.sample(t, {"X": state(k)})


def fill(i: int, t_ms: int = 0) -> FillEvent:
    return FillEvent(f"C{i}", f"O{i}", "X", Side.BUY if i % 2 == 0 else Side.SELL, Decimal("0.5"),
                     Decimal("100.25"), t_ms, is_maker=i % 3 != 0)


@pytest.mark.parametrize(
    ("step_ms", "run_ms", "expected"),
    [
        (100, 5_000, 100),  # the default run (50 steps): one sample per step
        (100, 50_000, 200),  # 500 steps: 167 ms rounded up to whole steps -> 250 samples
        (100, 100_000_000, 333_400),  # 1M steps: about 300 samples
        (100, None, 1000),  # length unknown
        (150, None, 1050),  # ... still a whole number of steps
        (100, 0, 100),
    ],
)
def test_default_sample_interval(step_ms: int, run_ms: int | None, expected: int) -> None:
    assert default_sample_ms(step_ms, run_ms) == expected


def test_samples_on_a_fixed_virtual_grid() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=300, max_samples=100)
    drive(recorder, 100, 20)
    section = recorder.section()
    assert section["t_ms"] == [300, 600, 900, 1200, 1500, 1800]
    assert section["samples"] == 6
    assert section["symbols"]["X"]["mid"] == [Decimal(k) for k in (3, 6, 9, 12, 15, 18)]
    assert section["symbols"]["X"]["our_bid"] == [None] * 6
    assert set(section["symbols"]["X"]) == set(SERIES)


def test_steps_off_the_grid_sample_at_the_first_step_after_each_multiple() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=250)
    drive(recorder, 100, 10)  # steps at 100..1000
    assert recorder.section()["t_ms"] == [300, 500, 800, 1000]


def test_full_timeline_keeps_every_second_sample_and_doubles_the_interval() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=100, max_samples=4)
    drive(recorder, 100, 5)
    section = recorder.section()
    assert section["t_ms"] == [200, 400]  # the 5th sample was due: 100..400 thinned to the 200 ms grid
    assert section["sample_ms"] == 200
    drive_more = [(k * 100) for k in range(6, 21)]
    for t in drive_more:
        recorder.sample(t, {"X": state(t // 100)})
    section = recorder.section()
    assert section["t_ms"] == [800, 1600]
    assert section["sample_ms"] == 800
    assert section["symbols"]["X"]["mid"] == [Decimal(8), Decimal(16)]


@settings(max_examples=60, deadline=None)
@given(step_ms=st.integers(1, 500), steps=st.integers(0, 400), sample_ms=st.integers(1, 2000),
       max_samples=st.integers(2, 40))
def test_sampling_invariants(step_ms: int, steps: int, sample_ms: int, max_samples: int) -> None:
    recorder = TimelineRecorder(["X"], sample_ms=sample_ms, max_samples=max_samples)
    drive(recorder, step_ms, steps)
    recorder.finish(steps * step_ms, {"X": state(steps)})
    section = recorder.section()
    t = section["t_ms"]
    assert len(t) <= max_samples
    assert t == sorted(set(t))  # strictly increasing
    assert section["samples"] == len(t) == len(section["symbols"]["X"]["mid"])
    assert section["sample_ms"] % sample_ms == 0
    assert (section["sample_ms"] // sample_ms).bit_count() == 1  # doubled a whole number of times
    if steps:
        assert t[-1] == steps * step_ms  # the end of the run is always the last point
        assert section["symbols"]["X"]["mid"][-1] == Decimal(steps)
    # down-sampling keeps exactly what sampling at the final interval from the start would have taken
    fresh = TimelineRecorder(["X"], sample_ms=section["sample_ms"], max_samples=10**6)
    drive(fresh, step_ms, steps)
    expected = fresh.section()["t_ms"]
    if steps and (not expected or expected[-1] != steps * step_ms):
        expected.append(steps * step_ms)
    assert t == expected


def test_same_inputs_same_section() -> None:
    def build() -> bytes:
        recorder = TimelineRecorder(["X"], sample_ms=100, max_samples=8)
        drive(recorder, 70, 300)
        for i in range(50):
            recorder.on_fill(fill(i, i * 10))
        return dumps(recorder.section())

    assert build() == build()


def test_fill_events_are_capped_by_keeping_every_kth() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=100, max_samples=4)
    for i in range(10):
        recorder.on_fill(fill(i, i))
    section = recorder.section()
    fills = section["events"]
    assert [e["t_ms"] for e in fills] == [0, 4, 8]
    assert section["events_dropped"] == 7
    assert fills[0] == {"t_ms": 0, "kind": "fill", "symbol": "X", "side": "BUY", "price": Decimal("100.25"),
                        "qty": Decimal("0.5"), "liquidity": "taker"}


def test_events_in_time_order_with_plan_shapes() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=100, origin_ms=1_000)
    recorder.on_freeze(500, "X", "Edge below threshold")
    recorder.on_fill(fill(1, 1_300))
    recorder.on_unfreeze(900)
    recorder.on_market_event(200, "gap", "X", missed=3)
    recorder.on_market_event(500, "reconnect")
    events = recorder.section()["events"]
    assert events == [
        {"t_ms": 200, "kind": "gap", "symbol": "X", "missed": 3},
        {"t_ms": 300, "kind": "fill", "symbol": "X", "side": "SELL", "price": Decimal("100.25"),
         "qty": Decimal("0.5"), "liquidity": "maker"},
        {"t_ms": 500, "kind": "freeze", "symbol": "X", "reason": "Edge below threshold"},
        {"t_ms": 500, "kind": "reconnect"},
        {"t_ms": 900, "kind": "unfreeze"},
    ]


def test_other_events_beyond_the_cap_are_counted() -> None:
    recorder = TimelineRecorder(["X"], sample_ms=100, max_samples=3)
    for t in range(5):
        recorder.on_unfreeze(t)
    section = recorder.section()
    assert len(section["events"]) == 3
    assert section["events_dropped"] == 2


@pytest.mark.parametrize("bad", [{"sample_ms": 0}, {"max_samples": 1}])
def test_bad_parameters(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TimelineRecorder(["X"], **{"sample_ms": 100, **bad})


# ---------------------------------------------------------------- real runs


def test_default_run_samples_every_step_and_ends_at_the_report_totals() -> None:
    report = run_session(RunSpec(), utc=UTC)
    timeline = report["timeline"]
    assert timeline["sample_ms"] == 100
    assert timeline["t_ms"] == list(range(100, 5_001, 100))
    assert timeline["events_dropped"] == 0
    for symbol, columns in timeline["symbols"].items():
        money = report["pnl"]["by_symbol"][symbol]
        assert columns["net"][-1] == money["net"]
        assert columns["position"][-1] == money["position"] == report["positions"]["by_symbol"][symbol]
        assert columns["mid"][-1] == report["positions"]["last_mid"][symbol]
        assert columns["fees"][-1] == money["fees"]
        for i, mid in enumerate(columns["mid"]):
            assert columns["best_bid"][i] < mid < columns["best_ask"][i]
            for side in ("our_bid", "our_ask"):
                assert columns[side][i] is None or isinstance(columns[side][i], Decimal)
            assert columns["net"][i] == (columns["realized"][i] + columns["unrealized"][i] - columns["fees"][i]
                                         + columns["rebates"][i])
    fills = [e for e in timeline["events"] if e["kind"] == "fill"]
    assert len(fills) == report["orders"]["fills"]
    assert all(0 < e["t_ms"] <= report["execution"]["virtual_ms"] for e in fills)


def test_freezes_and_unfreezes_are_events_at_their_virtual_time() -> None:
    config = RunSpec().replace(iterations=300, edge_threshold=Decimal("2.2"), unfreeze_after_ms=500)
    report = run_session(config, utc=UTC)
    events = report["timeline"]["events"]
    freezes = [e for e in events if e["kind"] == "freeze"]
    unfreezes = [e for e in events if e["kind"] == "unfreeze"]
    assert len(freezes) == report["risk"]["freeze_events"] > 1
    assert len(unfreezes) == report["risk"]["unfreezes_total"] >= 1
    logged = [(e["at_ms"], e["symbol"], e["reason"]) for e in report["risk"]["freeze_log"]]
    assert [(e["t_ms"], e["symbol"], e["reason"]) for e in freezes][: len(logged)] == logged
    for up in unfreezes:  # an unfreeze comes at least unfreeze_after_ms after the freeze before it
        before = max(e["t_ms"] for e in freezes if e["t_ms"] < up["t_ms"])
        assert up["t_ms"] - before >= 500
    assert [e["t_ms"] for e in events] == sorted(e["t_ms"] for e in events)


def test_long_run_is_thinned_to_at_most_max_samples() -> None:
    config = RunSpec().replace(iterations=3_000, sample_ms=100, max_samples=64, edge_threshold=Decimal(-1000))
    report = run_session(config, utc=UTC)
    timeline = report["timeline"]
    assert 32 <= timeline["samples"] <= 64
    assert timeline["sample_ms"] == 6_400
    assert timeline["t_ms"][-1] == 300_000
    kept = sum(1 for e in timeline["events"] if e["kind"] == "fill")
    assert kept <= 64
    assert kept + timeline["events_dropped"] == report["orders"]["fills"]


def test_timeline_is_deterministic_across_runs() -> None:
    config = RunSpec().replace(iterations=200, partial_fill_rate=0.5)
    assert dumps(run_session(config, utc=UTC)["timeline"]) == dumps(run_session(config, utc=UTC)["timeline"])


def test_cli_keys_flag_env_and_errors(cli) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(cli("shadow", "--iterations", "10", "--sample-ms", "300").stdout)
    assert report["timeline"]["t_ms"] == [300, 600, 900, 1000]
    assert report["config"]["sample_ms"] == 300
    report = json.loads(cli("shadow", "--iterations", "10", env={"MMEXEC_SHADOW__MAX_SAMPLES": "4"}).stdout)
    assert report["timeline"]["samples"] <= 4
    assert report["config"]["max_samples"] == 4
    bad = cli("shadow", "--sample-ms", "0")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: invalid sample_ms") and bad.stderr.count("\n") == 1
    assert "flag --sample-ms" in bad.stderr
    assert cli("shadow", "--max-samples", "1").exit_code == 2
