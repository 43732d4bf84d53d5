"""RunSpec (one set of names, typed sub-specs) and RunResult (parts that own their sections)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.canonical import dumps
from mmexec.run.builder import build_run, run_spec
from mmexec.run.result import RunResult, Section
from mmexec.run.spec import RunSpec

UTC = "2025-01-01T00:00:00Z"


def test_from_settings_groups_flag_names_into_sub_specs() -> None:
    spec = RunSpec.from_settings({"symbols": ["SOLUSDT"], "max_inv": "5000", "fill_rate": 0.5, "fee_tier": "VIP2",
                                  "requote_bps": 3, "skew_bps": 1.5, "quote_offset_ticks": 2,
                                  "fills_out": "f.jsonl", "shadow": True})
    assert spec.market.symbols == ("SOLUSDT",)
    assert spec.risk.max_inv == Decimal(5000)
    assert spec.venue.fill_rate == 0.5
    assert spec.fees.fee_tier == "VIP2"
    assert (spec.strategy.requote_bps, spec.strategy.skew_bps, spec.strategy.quote_offset_ticks) == (
        Decimal(3), Decimal("1.5"), 2)
    assert spec.output.fills_out == Path("f.jsonl")
    with pytest.raises(TypeError, match="bogus"):
        RunSpec.from_settings({"bogus": 1}, strict=True)


def test_config_section_has_the_flag_names_and_only_set_strategy_knobs() -> None:
    section = RunSpec().config_section()
    assert "skew_bps" not in section and "quote_offset_ticks" not in section
    assert "out" not in section and "fills_out" not in section
    assert "api_env" not in section and section["reject_rate"] == 0.05
    bybit = RunSpec.from_settings({"exchange": "bybit", "skew_bps": 1}).config_section()
    assert "reject_rate" not in bybit and bybit["api_env"] == "dev" and bybit["skew_bps"] == 1


def test_replace_changes_flag_named_fields() -> None:
    spec = RunSpec().replace(iterations=7, max_inv=Decimal(1))
    assert spec.market.iterations == 7 and spec.risk.max_inv == 1
    with pytest.raises(TypeError):
        RunSpec().replace(iteratons=7)


def test_result_is_serialized_once_from_its_parts() -> None:
    result = run_spec(RunSpec.from_settings({"iterations": 20}), utc=UTC)
    report = result.to_report()
    assert list(report) == ["config", "execution", "orders", "positions", "risk", "runtime", "fees", "pnl", "recon",
                            "timeline"]
    assert result.to_json() == dumps(report)
    assert json.loads(result.to_json())["runtime"]["utc"] == UTC


def test_two_parts_may_not_claim_one_section() -> None:
    with pytest.raises(ValueError, match="fees"):
        RunResult([Section("fees", dict), Section("fees", dict)]).to_report()


def test_strategy_knobs_reach_the_loop() -> None:
    run = build_run(RunSpec.from_settings({"quote_offset_ticks": 4, "skew_bps": 2}), utc=UTC)
    assert run.loop.policy is not None
    assert (run.loop.policy.quote_offset_ticks, run.loop.policy.skew_bps) == (4, Decimal(2))
    plain = json.loads(run_spec(RunSpec.from_settings({"iterations": 50}), utc=UTC).to_json())
    offset = json.loads(run_spec(RunSpec.from_settings({"iterations": 50, "quote_offset_ticks": 50}),
                                 utc=UTC).to_json())
    assert offset["config"]["quote_offset_ticks"] == 50
    assert offset["fees"]["total"]["maker_notional"] != plain["fees"]["total"]["maker_notional"]  # other prices
