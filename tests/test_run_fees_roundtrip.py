"""A run's exported fills, re-priced by `mmexec fees` under the run's own fee setup, reproduce its `fees` section."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec import canonical


@pytest.mark.parametrize(
    "fee_args",
    [(), ("--fee-tier", "VIP2"), ("--fee-tier", "MM_Tier_A"), ("--fee-maker-bps", "0.3", "--rebate-maker-bps", "2")],
    ids=["fallback", "vip2", "mm_tier_a", "overrides"],
)
def test_repricing_exported_fills_reproduces_fees_section(cli, tmp_path: Path, fee_args: tuple[str, ...]) -> None:
    fills = tmp_path / "fills.jsonl"
    run = cli("shadow", "--iterations", "150", "--partial-fill-rate", "0.3", "--fills-out", str(fills), *fee_args)
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["fees"]["total"]["fills"] == report["orders"]["fills"] == len(fills.read_text().splitlines())
    fee_flags = [a.replace("--fee-tier", "--tier") for a in fee_args]
    priced = cli("fees", "--fills", str(fills), *fee_flags, "--json")
    assert priced.exit_code == 0, priced.stderr
    assert priced.stdout_bytes == canonical.dumps(report["fees"])


def test_pnl_identity_holds_in_the_report(cli) -> None:
    report = json.loads(cli("shadow", "--iterations", "200", "--fee-tier", "VIP1").stdout, parse_float=Decimal)
    total = report["pnl"]["total"]
    assert total["net"] == total["realized"] + total["unrealized"] - total["fees"] + total["rebates"]
    assert total["fees"] == report["fees"]["total"]["maker_fees"] + report["fees"]["total"]["taker_fees"]
    assert total["rebates"] == report["fees"]["total"]["maker_rebates"]


def test_failed_run_leaves_no_fills_file(cli, tmp_path: Path) -> None:
    fills = tmp_path / "fills.jsonl"
    result = cli("shadow", "--fills-out", str(fills), "--fee-tier", "VIP9")
    assert result.exit_code == 2
    assert "VIP9" in result.stderr
    assert list(tmp_path.iterdir()) == []
