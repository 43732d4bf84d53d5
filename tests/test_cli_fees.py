"""``mmexec fees``: tier tables, effective configuration, fee reports over a fills file, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.accounting.ledger import FeeLedger
from mmexec.canonical import dumps, loads
from mmexec.engine.models import FillEvent, Side
from mmexec.fees.fills_io import FillsWriter
from mmexec.fees.resolve import resolve_fee_config

FILLS = [
    FillEvent("CLI00000001", "ORD000001", "BTCUSDT", Side.BUY, Decimal("0.5"), Decimal("40000"), 100, True, "F1"),
    FillEvent("CLI00000002", "ORD000002", "BTCUSDT", Side.SELL, Decimal("0.25"), Decimal("40100"), 200, False, "F2"),
    FillEvent("CLI00000003", "ORD000003", "ETHUSDT", Side.BUY, Decimal("2"), Decimal("2500.5"), 300, True, "F3"),
]


@pytest.fixture
def fills_file(tmp_path: Path) -> Path:
    path = tmp_path / "run.fills.jsonl"
    with FillsWriter(path) as writer:
        for f in FILLS:
            writer.write(f)
    return path


def test_all_tiers_table(cli, snapshot) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--all")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Tier", "Maker", "bps", "Taker", "bps", "Rebate", "bps", "Use", "case"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[2:]}
    assert rows == {
        "VIP0": ["1.0", "7.0", "0.0"],
        "VIP1": ["0.8", "6.5", "1.0"],
        "VIP2": ["0.5", "5.0", "2.5"],
        "VIP3": ["0.2", "4.0", "3.0"],
        "MM_Tier_A": ["0.0", "3.0", "5.0"],
    }
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal
    assert result.stdout == snapshot


def test_all_tiers_json(cli, snapshot_json) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--all", "--json")
    assert result.exit_code == 0
    data = loads(result.stdout_bytes)
    assert data["tiers"]["MM_Tier_A"] == {
        "name": "MM_Tier_A", "maker_bps": 0.0, "taker_bps": 3.0, "maker_rebate_bps": 5.0,
        "use_case": "Market maker (strong rebate)",
    }  # fmt: skip
    assert result.stdout_bytes == snapshot_json


def test_one_tier(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--tier", "VIP2")
    assert result.exit_code == 0
    row = result.stdout.splitlines()[-1].split()
    assert row[-4:] == ["VIP2", "0.5", "5.0", "2.5"]
    data = loads(cli("fees", "--tier", "vip2", "--json").stdout_bytes)
    assert data["tier"] == "VIP2"
    assert data["profile_map"] == {"*": {"name": "VIP2", "maker_bps": 0.5, "taker_bps": 5.0, "maker_rebate_bps": 2.5}}
    assert cli("fees", "--tier", "VIP2", "--json").stdout_bytes == dumps(resolve_fee_config("VIP2").description)


def test_default_shows_the_fallback(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].split() == ["(fallback)", "VIP0", "1.0", "7.0", "0.0"]
    custom = cli("fees", "--fee-taker-bps", "6.5", "--json")
    assert loads(custom.stdout_bytes)["fallback"] == {
        "name": None, "maker_bps": 1.0, "taker_bps": 6.5, "maker_rebate_bps": 0.0,
    }  # fmt: skip


def test_profiles_table(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.toml"
    path.write_text('BTCUSDT = "VIP3"\n[ETHUSDT]\ntier = "VIP1"\ntaker_bps = 6\n')
    result = cli("fees", "--profiles", str(path))
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert rows == [
        ["BTCUSDT", "VIP3", "0.2", "4.0", "3.0"],
        ["ETHUSDT", "custom", "0.8", "6", "1.0"],
        ["(fallback)", "VIP0", "1.0", "7.0", "0.0"],
    ]


def test_fee_report_json_is_the_runs_fees_section(cli, fills_file: Path) -> None:  # type: ignore[no-untyped-def]
    # The run: a ledger fed fill by fill under VIP2; the CLI re-prices the exported fills under VIP2.
    fee_config = resolve_fee_config(fee_tier="VIP2")
    ledger = FeeLedger.for_config(fee_config)
    by_hand = FeeLedger(fee_config.fee_schedule, fee_config.profile_map, tier=fee_config.tier)
    for f in FILLS:
        ledger.on_fill(f)
        by_hand.on_fill(f)
    result = cli("fees", "--fills", str(fills_file), "--tier", "VIP2", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == dumps(ledger.section())
    section = by_hand.section()  # a run that records its fee setup itself
    section["schedule"] = fee_config.description
    assert result.stdout_bytes == dumps(section)
    assert loads(result.stdout_bytes)["schedule"]["tier"] == "VIP2"


def test_fee_report_json_by_hand(cli, fills_file: Path, snapshot_json) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--fills", str(fills_file), "--tier", "MM_Tier_A", "--json")
    data = loads(result.stdout_bytes)
    # BTC: maker 20000 -> fee 0, rebate 10; taker 10025 -> 3.0075. ETH: maker 5001 -> rebate 2.5005.
    assert data["by_symbol"]["BTCUSDT"]["net_cost"] == -6.9925
    assert data["by_symbol"]["ETHUSDT"]["maker_rebates"] == 2.5005
    assert data["total"]["net_cost"] == -9.493
    assert data["total"]["fills"] == 3 and data["tier"] == "MM_Tier_A"
    assert result.stdout_bytes == snapshot_json


def test_fee_report_table_and_repricing_under_other_tiers(cli, fills_file: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--fills", str(fills_file), "--tier", "VIP0")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["Symbol", "Schedule", "Fills"]
    total = lines[-1].split()
    # TOTAL VIP0 3 | maker notional 25001 | taker 10025 | maker fees 2.5001 | taker 7.0175 | rebates 0 | net 9.5176
    assert total == ["TOTAL", "VIP0", "3", "25001", "10025", "2.5001", "7.0175", "0", "9.5176"]
    vip3 = cli("fees", "--fills", str(fills_file), "--tier", "VIP3").stdout.splitlines()[-1].split()
    # maker fees 25001*0.2 = 0.50002, taker 10025*4 = 4.01, rebates 25001*3 = 7.5003, net -2.99028
    assert vip3[-4:] == ["0.50002", "4.01", "7.5003", "-2.99028"]


def test_fee_report_with_fallback_overrides_and_stdin(cli, fills_file: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--fills", "-", "--fee-maker-bps", "0", "--fee-taker-bps", "10", "--rebate-maker-bps",
                 "1", "--json", input=fills_file.read_bytes())
    assert result.exit_code == 0, result.stderr
    data = loads(result.stdout_bytes)
    assert data["tier"] is None
    assert data["by_symbol"]["BTCUSDT"]["schedule_source"] == "fallback"
    assert data["total"]["taker_fees"] == 10.025 and data["total"]["maker_rebates"] == 2.5001


def test_empty_fills_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    data = loads(cli("fees", "--fills", str(empty), "--json").stdout_bytes)
    assert data["by_symbol"] == {} and data["total"]["fills"] == 0 and data["total"]["net_cost"] == 0


def test_config_table_and_env(cli, tmp_path: Path, fills_file: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "mmexec.toml"
    config.write_text('[fees]\ntier = "VIP1"\n')
    assert loads(cli("fees", "--json").stdout_bytes)["tier"] == "VIP1"  # ./mmexec.toml (cwd is tmp_path)
    assert loads(cli("fees", "--json", env={"MMEXEC_FEES__TIER": "VIP3"}).stdout_bytes)["tier"] == "VIP3"
    assert loads(cli("fees", "--json", "--tier", "VIP2", env={"MMEXEC_FEES__TIER": "VIP3"}).stdout_bytes)[
        "tier"
    ] == "VIP2"
    conflict = cli("fees", "--profiles", "x.json")
    assert conflict.exit_code == 2
    assert conflict.stderr.strip().endswith(f"(file {config} [fees]; flag --profiles)")
    config.write_text('[fees]\nfee_taker_bps = "-3"\n')
    bad = cli("fees", "--fills", str(fills_file))
    assert bad.exit_code == 2
    assert bad.stderr == f"error: invalid fee_taker_bps '-3': must not be negative (file {config} [fees])\n"
    config.write_text('[fees]\nfee_rate = 3\n')
    assert "unknown key 'fee_rate' in [fees]" in cli("fees").stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tier", "VIP9"], "error: unknown fee tier 'VIP9' (valid tiers: VIP0, VIP1, VIP2, VIP3, MM_Tier_A) "
                             "(flag --tier)"),
        (["--tier", "VIP1", "--profiles", "p.json"], "exclude each other: give one (flag --tier; flag --profiles)"),
        (["--fee-maker-bps", "-0.5"], "error: invalid fee_maker_bps '-0.5': must not be negative "
                                      "(flag --fee-maker-bps)"),
        (["--fee-taker-bps", "lots"], "error: invalid fee_taker_bps 'lots'"),
        (["--rebate-maker-bps", "inf"], "error: invalid rebate_maker_bps 'inf'"),
        (["--tier", "VIP1", "--fee-taker-bps", "4"], "fee_taker_bps 4 would never apply"),
        (["--all", "--tier", "VIP1"], "error: --all lists every tier; it excludes --tier (flag --all)"),
        (["--profiles", "missing.json"], "fee profiles file 'missing.json' does not exist"),
        (["--fills", "missing.jsonl"], "error: fills file 'missing.jsonl' does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_fills_line_names_line_and_file(cli, tmp_path: Path, fills_file: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(fills_file.read_bytes() + b'{"symbol":"BTCUSDT","side":"BUY","qty":"1","price":"-2",'
                    b'"liquidity":"maker"}\n')
    result = cli("fees", "--fills", str(bad), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing is printed before the whole file is read
    assert result.stderr == f"error: line 4: price must be a positive number, got '-2' (fills file {bad})\n"


def test_installed_cli_help_is_fast_and_table_has_no_colour(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORCE_COLOR", "MMEXEC_"))}
    started = time.perf_counter()
    help_run = subprocess.run([sys.executable, "-m", "mmexec", "fees", "--help"], capture_output=True,
                              env=env, check=False, cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert help_run.returncode == 0 and b"--fee-maker-bps" in help_run.stdout
    assert elapsed < 2.0  # generous for CI; measured ~0.1 s locally
    table = subprocess.run([sys.executable, "-m", "mmexec", "fees", "--all"], capture_output=True, env=env,
                           check=False, cwd=tmp_path)
    assert table.returncode == 0 and b"\x1b[" not in table.stdout and table.stderr == b""
    assert b"MM_Tier_A" in table.stdout
