"""Byte-exact replay reports (Syrupy) and the installed CLI on real captures.

A change in these bytes is a change in behaviour: update with `pytest --snapshot-update` only on purpose,
and say why in CHANGELOG.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.replay_support import BTC, ETH, XRP

REFERENCE = ("--order-qty", "0.016", "--edge-threshold", "-10000", "--max-inv", "10000", "--fee-maker-bps", "0")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--data", str(BTC)), id="btc_default"),
        pytest.param(("--data", str(BTC), *REFERENCE), id="btc_reference"),
        pytest.param(("--data", str(ETH)), id="eth_default"),
        pytest.param(("--data", str(BTC), "--data", str(ETH), "--edge-threshold", "-10000", "--skew-bps", "5",
                      "--queue-model", "proportional"), id="btc_eth_merged"),
        pytest.param(("--data", str(XRP), "--edge-threshold", "-10000"), id="bybit_xrp"),
    ],
)
def test_replay_report_bytes(cli, snapshot_json, args: tuple[str, ...]) -> None:
    result = cli("shadow", "--market", "replay", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == snapshot_json


def test_reference_strategy_is_close_to_hftbacktest(cli) -> None:
    """hftbacktest's reference run on the same file filled 164 of 257 orders with 39 post-only rejects."""
    report = json.loads(cli("shadow", "--market", "replay", "--data", str(BTC), *REFERENCE).stdout)
    orders, queue = report["orders"], report["queue"]
    assert 200 <= orders["placed"] <= 320
    assert 130 <= orders["filled"] <= 200
    assert 25 <= queue["post_only_rejects"] <= 55
    assert report["recon"]["ok"] is True


@pytest.mark.parametrize(
    ("make", "match"),
    [
        ("truncated", "truncated compressed data"),
        ("unknown", "unknown market data format"),
        ("missing", "market data file not found"),
    ],
)
def test_bad_data_is_exit_2_with_one_line(cli, tmp_path: Path, make: str, match: str) -> None:
    path = tmp_path / "bad.gz"
    if make == "truncated":
        data = BTC.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif make == "unknown":
        path.write_text('{"hello": 1}\n')
    result = cli("shadow", "--market", "replay", "--data", str(path), "--out", str(tmp_path / "r.json"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0]
    assert "bad.gz" in lines[0]
    assert not (tmp_path / "r.json").exists()


def test_symbol_absent_from_the_data_is_exit_2(cli) -> None:
    result = cli("shadow", "--market", "replay", "--data", str(XRP), "--symbols", "BTCUSDT")
    assert result.exit_code == 2
    assert "BTCUSDT not in the market data" in result.stderr


def test_installed_cli_replays(tmp_path: Path) -> None:
    exe = shutil.which("mmexec", path=str(Path(sys.executable).parent))
    assert exe is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMEXEC_")}
    out = tmp_path / "report.json"
    proc = subprocess.run([exe, "shadow", "--market", "replay", "--data", str(XRP), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["market"]["files"][0]["name"] == "xrpusdt-ob500.data.zip"
    assert set(report) >= {"market", "markout", "queue", "orders", "positions", "fees", "pnl", "recon", "risk"}


def test_replay_from_the_toml_table(cli, tmp_path: Path) -> None:
    config = tmp_path / "mmexec.toml"
    config.write_text(
        "[shadow]\n"
        'market = "replay"\n'
        f"data = [{json.dumps(str(XRP))}]\n"
        'queue_model = "proportional"\n'
        "response_latency_ms = 50\n"
        "[shadow.instruments]\n"
        'XRPUSDT = "0.0001/1"\n'
    )
    result = cli("shadow", "--config", str(config), "--edge-threshold", "-1000")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["config"]["instrument"] == {"XRPUSDT": "0.0001/1"}
    assert report["config"]["response_latency_ms"] == 50
    assert report["queue"]["model"] == "proportional"
    assert report["market"]["symbols"]["XRPUSDT"]["instrument_source"] == "--instrument"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("--market", "replay", "--data", str(XRP), "--fill-model", "probabilistic"), "--fill-model"),
        (("--fill-model", "queue"), "needs recorded market data"),
        (("--market", "replay", "--data", str(XRP), "--exchange", "bybit"), "--exchange"),
        (("--market", "replay", "--data", str(XRP), "--instrument", "XRPUSDT=0.001"), "SYMBOL=TICK/LOT"),
    ],
)
def test_replay_config_errors(cli, args: tuple[str, ...], match: str) -> None:
    result = cli("shadow", *args)
    assert result.exit_code == 2
    assert match in result.stderr and len(result.stderr.strip().splitlines()) == 1
