"""`--state`, `orders`, `fills` and `report show/diff` over a journal, in-process (CliRunner)."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

ARGS = ("shadow", "--iterations", "400", "--edge-threshold", "0", "--partial-fill-rate", "0.5")


@pytest.fixture
def journaled(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    result = cli(*ARGS, "--state", "j.db", "--out", "r.json", "--fills-out", "f.jsonl")
    assert result.exit_code == 0, result.output
    return tmp_path / "j.db"


def test_state_run_matches_the_plain_run(cli, journaled: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain = cli(*ARGS, "--out", "p.json", "--fills-out", "p.jsonl")
    assert plain.exit_code == 0
    assert (tmp_path / "p.json").read_bytes() == (tmp_path / "r.json").read_bytes()
    assert (tmp_path / "p.jsonl").read_bytes() == (tmp_path / "f.jsonl").read_bytes()


def test_state_from_the_environment(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(*ARGS, "--out", "r.json", env={"MMEXEC_SHADOW__STATE": str(tmp_path / "env.db")})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.db").exists()
    report = json.loads((tmp_path / "r.json").read_bytes())
    assert "state" not in report["config"]  # where results go is not part of the report


def test_orders_lists_every_order_with_final_states(cli, journaled: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = json.loads((tmp_path / "r.json").read_bytes())
    result = cli("orders", str(journaled), "--json")
    assert result.exit_code == 0
    orders = [json.loads(line) for line in result.stdout.splitlines()]
    counted = report["orders"]
    assert len(orders) == counted["placed"]
    states = [o["state"] for o in orders]
    assert states.count("REJECTED") == counted["rejected"]
    assert states.count("CANCELED") == counted["canceled"]
    assert states.count("FILLED") == counted["filled"]
    assert len({o["client_order_id"] for o in orders}) == len(orders)
    filled = cli("orders", str(journaled), "--state", "filled", "--symbol", "ethusdt", "--json")
    rows = [json.loads(line) for line in filled.stdout.splitlines()]
    assert rows and all(o["state"] == "FILLED" and o["symbol"] == "ETHUSDT" for o in rows)
    table = cli("orders", str(journaled), "--state", "OPEN")
    assert table.exit_code == 0 and table.stdout.startswith("client_order_id")


def test_orders_refuses_an_unknown_state(cli, journaled: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("orders", str(journaled), "--state", "DONE")
    assert result.exit_code == 2
    assert "unknown order state" in result.output


def test_fills_match_the_fills_file_and_carry_fees(cli, journaled: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("fills", str(journaled), "--json")
    assert result.exit_code == 0
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    written = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in f.items() if k not in {"seq", "fee", "rebate"}} for f in listed] == written
    report = json.loads((tmp_path / "r.json").read_bytes(), parse_float=Decimal)
    for symbol, section in report["fees"]["by_symbol"].items():
        mine = [f for f in listed if f["symbol"] == symbol]
        assert sum((Decimal(f["fee"]) for f in mine), Decimal(0)) == section["maker_fees"] + section["taker_fees"]
        assert sum((Decimal(f["rebate"]) for f in mine), Decimal(0)) == section["maker_rebates"]


def test_report_show_and_diff_read_a_journal(cli, journaled: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown = cli("report", "show", str(journaled), "--section", "orders")
    assert shown.exit_code == 0 and "placed" in shown.stdout
    same = cli("report", "diff", str(journaled), str(tmp_path / "r.json"))
    assert same.exit_code == 0, same.output


def test_report_of_an_unfinished_journal_is_refused(cli, journaled: Path) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(journaled)
    conn.execute("UPDATE run SET status = 'running', report = NULL")
    conn.commit()
    conn.close()
    result = cli("report", "show", str(journaled))
    assert result.exit_code == 2
    assert "not complete" in result.output


def test_help_lists_the_journal_commands(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("--help")
    assert "orders" in result.stdout and "fills" in result.stdout
    run_help = cli("shadow", "--help")
    for flag in ("--state", "--resume", "--force", "--checkpoint-every"):
        assert flag in run_help.stdout
