"""Byte-exact reports of `mmexec shadow` (Syrupy, one .json file per scenario).

A change in these bytes is a change in behaviour: update with `pytest --snapshot-update` only on purpose,
and say why in CHANGELOG.md.
"""

from __future__ import annotations

import json

import pytest

SEED_INVOCATION = (
    "--shadow", "--symbols", "BTCUSDT,ETHUSDT", "--iterations", "50", "--max-inv", "10000", "--max-total", "50000",
    "--edge-threshold", "1.5", "--fill-rate", "0.7", "--reject-rate", "0.05", "--latency-ms", "100",
)
HIGH_FILL_PARTIAL = (
    "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT", "--iterations", "200", "--fill-rate", "0.95",
    "--partial-fill-rate", "0.5", "--max-inv", "4000", "--edge-threshold", "-100",
)
FREEZE = ("--symbols", "BTCUSDT,ETHUSDT", "--iterations", "100", "--edge-threshold", "2.2", "--seed", "42")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(SEED_INVOCATION, id="seed_default"),
        pytest.param(HIGH_FILL_PARTIAL, id="high_fill_partial"),
        pytest.param(FREEZE, id="freeze"),
    ],
)
def test_report_bytes(cli, snapshot_json, args: tuple[str, ...]) -> None:
    result = cli("shadow", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == snapshot_json


def test_high_fill_scenario_exercises_partial_fills_and_blocks(cli) -> None:
    report = json.loads(cli("shadow", *HIGH_FILL_PARTIAL).stdout)
    assert report["orders"]["partial_fills"] > 0
    assert report["orders"]["risk_blocks"] > 0
    assert report["risk"]["frozen"] is False


def test_freeze_scenario_freezes_and_cancels_everything(cli) -> None:
    report = json.loads(cli("shadow", *FREEZE).stdout)
    risk = report["risk"]
    assert risk["frozen"] is True
    assert risk["freeze_events"] == risk["freezes_total"] == 1
    assert risk["last_freeze_reason"] == "Edge below threshold"
    assert risk["last_freeze_symbol"] in {"BTCUSDT", "ETHUSDT"}
    assert risk["freeze_log"][0]["edge_bps"] < 2.2
    assert report["orders"]["open"] == 0
