"""``mmexec report diff`` and ``mmexec report show``: exit codes, output streams, snapshots, end to end."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmexec.canonical import dumps, loads

WIDE = {"COLUMNS": "200"}  # rich's table width when stdout is not a terminal

# The original "Output" report (docs/report.md, "The report"), as `mmexec shadow` writes it.
SEED: dict[str, Any] = {
    "execution": {"iterations": 50, "symbols": ["BTCUSDT", "ETHUSDT"]},
    "orders": {"placed": 42, "filled": 28, "rejected": 2, "canceled": 5, "risk_blocks": 7},
    "positions": {
        "by_symbol": {"BTCUSDT": 0.15, "ETHUSDT": 1.2},
        "net_pos_usd": {"BTCUSDT": 7500.0, "ETHUSDT": 3600.0},
        "total_notional_usd": 11100.0,
    },
    "risk": {
        "frozen": True,
        "freeze_events": 1,
        "last_freeze_reason": "Edge below threshold",
        "last_freeze_symbol": "BTCUSDT",
        "blocks_total": 7,
        "freezes_total": 1,
    },
    "runtime": {"utc": "2025-01-01T00:00:00Z"},
}

# A later run: numbers moved, a symbol added, a key removed, a type change, new sections (unicode, dotted keys).
CHANGED: dict[str, Any] = {
    "execution": {"iterations": 50, "symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"]},
    "orders": {"placed": 42, "filled": 30, "rejected": "2", "canceled": 5},
    "positions": {
        "by_symbol": {"BTCUSDT": 0.15, "ETHUSDT": 1.25, "BTC.USDT": 1},
        "net_pos_usd": {"BTCUSDT": 7500, "ETHUSDT": 3750.0},
        "total_notional_usd": 11250.0,
    },
    "risk": {
        "frozen": False,
        "freeze_events": 1,
        "last_freeze_reason": None,
        "last_freeze_symbol": "BTCUSDT",
        "blocks_total": 7,
        "freezes_total": 1,
    },
    "runtime": {"utc": "2025-01-02T00:00:00Z"},
    "fees": {"maker_bps": -0.25, "note": "rabais café ☕"},
}


def write(path: Path, report: Any) -> str:
    path.write_bytes(dumps(report))
    return str(path)


@pytest.fixture
def seed(tmp_path: Path) -> str:
    return write(tmp_path / "a.json", SEED)


@pytest.fixture
def later(tmp_path: Path) -> str:
    return write(tmp_path / "b.json", CHANGED)


# ------------------------------------------------------------------------------------------ exit codes


def test_identical_reports_exit_0_with_empty_stdout(cli, seed: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = write(tmp_path / "copy.json", SEED)
    result = cli("report", "diff", seed, copy)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "no differences\n"


def test_semantically_equal_reports_exit_0(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text('{"x": 1, "y": [1.50, {"z": "é"}], "w": 7500.0}')
    b.write_text('{"w":7500,"y":[1.5,{"z":"\\u00e9"}],"x":1.0}\n')
    result = cli("report", "diff", str(a), str(b), "--json")
    assert result.exit_code == 0
    assert result.stdout_bytes == b'{"count":0,"differences":[]}\n'


def test_differences_exit_1_with_a_table(cli, seed: str, later: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", seed, later, env=WIDE)
    assert result.exit_code == 1
    assert result.stderr == "12 differences\n"
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]] for line in table_rows(result)}
    assert rows["positions.by_symbol.ETHUSDT"] == ["1.2", "1.25", "+0.05 (+4.17%)"]
    assert rows["positions.net_pos_usd.ETHUSDT"] == ["3600.0", "3750.0", "+150.0 (+4.17%)"]
    assert rows["orders.filled"] == ["28", "30", "+2 (+7.14%)"]
    assert rows["orders.rejected"] == ["2", '"2"', "number → string"]
    assert rows["orders.risk_blocks"] == ["7", "—", "removed"]
    assert rows["execution.symbols[2]"] == ["—", '"SOLUSDT"', "added"]
    assert rows['positions.by_symbol["BTC.USDT"]'] == ["—", "1", "added"]
    assert rows["risk.frozen"] == ["true", "false", "changed"]
    assert rows["risk.last_freeze_reason"] == ['"Edge below threshold"', "null", "string → null"]
    assert rows["fees"] == ["—", '{"maker_bps":-0.25,"note":"rabais café ☕"}', "added"]
    assert "positions.net_pos_usd.BTCUSDT" not in rows  # 7500.0 == 7500
    assert list(rows) == sorted(rows, key=lambda p: p.replace('["BTC.USDT"]', ".BTC.USDT"))  # by path
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal


def table_rows(result: Any) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("│")]


def test_missing_file_exits_2_naming_it(cli, seed: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = str(tmp_path / "missing.json")
    for args in ((seed, missing), (missing, seed)):
        result = cli("report", "diff", *args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == f"error: report file does not exist ({missing})\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"a": 1,}',
            "report is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 9",
        ),
        (b"", "report is not valid JSON: Expecting value at line 1 column 1"),
        (b'{"a": NaN}', "report is not valid JSON: NaN is not a JSON number"),
        (b"\xff\xfe{}", "report is not valid UTF-8 (byte 0)"),
        (b"[]", "report must be a JSON object at the top level, not an array"),
        (b"42", "report must be a JSON object at the top level, not a number"),
        (b'{"a": "\\ud800"}', "report has a string that is not valid Unicode at a"),
        (
            b'{"a": 1e999}',
            "report has a number out of range: 1e999 (at most 100 characters and a magnitude within 1e±400)",
        ),
    ],
)
def test_bad_report_exits_2_naming_the_file(cli, seed: str, tmp_path: Path, content: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = cli("report", "diff", seed, str(bad))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {message} ({bad})\n"
    assert "Traceback" not in result.stderr


def test_unreadable_paths_exit_2(cli, seed: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", str(tmp_path), seed)
    assert (result.exit_code, result.stderr) == (2, f"error: report path is a directory, not a file ({tmp_path})\n")
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked.json"
        locked.write_bytes(dumps(SEED))
        locked.chmod(0)
        result = cli("report", "diff", seed, str(locked))
        assert result.exit_code == 2
        assert result.stderr == f"error: cannot read report file: Permission denied ({locked})\n"


@pytest.mark.parametrize("flag", ["--abs-tol", "--rel-tol"])
@pytest.mark.parametrize("value", ["-1", "nan", "inf", "-Infinity", "x", ""])
def test_bad_tolerance_exits_2_naming_the_flag(cli, seed: str, flag: str, value: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", seed, "missing.json", flag, value)  # flags are checked before any file
    assert result.exit_code == 2
    name = flag.removeprefix("--").replace("-", "_")
    assert result.stderr == f"error: invalid {name} {value!r}: must be a non-negative finite number (flag {flag})\n"


def test_bad_ignore_pattern_exits_2_naming_the_flag(cli, seed: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", seed, seed, "--ignore", "runtime..utc")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: invalid ignore pattern 'runtime..utc': empty or invalid segment at character 9 (flag --ignore)\n"
    )


def test_usage_errors_exit_2(cli, seed: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("report", "diff", seed).exit_code == 2
    assert cli("report", "diff", seed, seed, "--limit", "-1").exit_code == 2


# ------------------------------------------------------------------------------- ignore and tolerances


def diff_json(cli, *args: str) -> tuple[int, dict[str, Any]]:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", "--json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, loads(result.stdout_bytes)


def test_ignore_is_repeatable_and_uses_the_path_syntax(cli, seed: str, later: str) -> None:  # type: ignore[no-untyped-def]
    code, out = diff_json(cli, seed, later, "--ignore", "runtime.*", "--ignore", "fees", "--ignore", "*.by_symbol.*")
    assert code == 1
    assert [d["path"] for d in out["differences"]] == [
        "execution.symbols[2]",
        "orders.filled",
        "orders.rejected",
        "orders.risk_blocks",
        "positions.net_pos_usd.ETHUSDT",
        "positions.total_notional_usd",
        "risk.frozen",
        "risk.last_freeze_reason",
    ]
    code, out = diff_json(cli, seed, later, "--ignore", "**", "--ignore", 'positions.by_symbol["BTC.USDT"]')
    assert (code, out) == (0, {"count": 0, "differences": []})


def test_runtime_star_makes_runs_at_different_times_equal(cli, seed: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = write(tmp_path / "other.json", {**SEED, "runtime": {"utc": "2030-06-01T12:00:00Z"}})
    assert cli("report", "diff", seed, other).exit_code == 1
    result = cli("report", "diff", seed, other, "--ignore", "runtime.*")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "no differences\n")


def test_tolerances_on_the_command_line(cli, seed: str, later: str) -> None:  # type: ignore[no-untyped-def]
    ignore = ["--ignore", "execution", "--ignore", "risk", "--ignore", "runtime", "--ignore", "fees"]
    numeric = ["orders.filled", "positions.by_symbol.ETHUSDT", "positions.net_pos_usd.ETHUSDT",
               "positions.total_notional_usd"]  # fmt: skip
    structural = ["orders.rejected", "orders.risk_blocks", 'positions.by_symbol["BTC.USDT"]']

    def paths(*flags: str) -> list[str]:
        return sorted(d["path"] for d in diff_json(cli, seed, later, *ignore, *flags)[1]["differences"])

    assert paths() == sorted(numeric + structural)
    assert paths("--abs-tol", "0.05") == sorted(structural + numeric[0:1] + numeric[2:])
    assert paths("--abs-tol", "150") == sorted(structural)  # 150.0 <= 150: equal at the boundary
    assert paths("--rel-tol", "0.04") == sorted(structural + numeric[:1])  # 2/30 > 4%, 0.05/1.25 = 4%
    assert paths("--rel-tol", "0.0667") == sorted(structural)  # 2 <= 0.0667 * 30
    assert paths("--abs-tol", "1", "--rel-tol", "0.04") == sorted(structural + numeric[:1])
    assert paths("--rel-tol", "0.041") == sorted(structural + numeric[:1])
    assert paths("--abs-tol", "2", "--rel-tol", "0.041") == sorted(structural)  # either one suffices


def test_json_records_added_removed_and_changed(cli, seed: str, later: str) -> None:  # type: ignore[no-untyped-def]
    code, out = diff_json(cli, seed, later)
    assert code == 1
    assert out["count"] == len(out["differences"]) == 12
    by_path = {d["path"]: d for d in out["differences"]}
    assert by_path["execution.symbols[2]"] == {
        "path": "execution.symbols[2]", "segments": ["execution", "symbols", 2], "kind": "added",
        "a": None, "b": "SOLUSDT", "abs_change": None, "rel_change": None,
    }  # fmt: skip
    assert by_path["orders.risk_blocks"]["kind"] == "removed"
    assert (by_path["orders.risk_blocks"]["a"], by_path["orders.risk_blocks"]["b"]) == (7, None)
    assert by_path["positions.total_notional_usd"]["abs_change"] == 150.0
    assert by_path['positions.by_symbol["BTC.USDT"]']["segments"] == ["positions", "by_symbol", "BTC.USDT"]
    assert by_path["fees"]["b"] == {"maker_bps": -0.25, "note": "rabais café ☕"}


def test_list_items_added_and_removed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write(tmp_path / "a.json", {"orders": {"items": [{"id": "CLI00000001"}, {"id": "CLI00000002"}]}})
    b = write(tmp_path / "b.json", {"orders": {"items": [{"id": "CLI00000001"}]}})
    code, out = diff_json(cli, a, b)
    assert code == 1
    assert [(d["path"], d["kind"], d["a"]) for d in out["differences"]] == [
        ("orders.items[1]", "removed", {"id": "CLI00000002"})
    ]
    code, out = diff_json(cli, b, a)
    assert [(d["path"], d["kind"], d["b"]) for d in out["differences"]] == [
        ("orders.items[1]", "added", {"id": "CLI00000002"})
    ]


def test_unicode_keys_and_values(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write(tmp_path / "a.json", {"pnl": {"café": "☕", "日本": 1, "a.b": {"ü": 1}}})
    b = write(tmp_path / "b.json", {"pnl": {"café": "🍵", "日本": 2, "a.b": {"ü": 1}}})
    result = cli("report", "diff", a, b, "--json")
    assert result.exit_code == 1
    assert '"b":"🍵"'.encode() in result.stdout_bytes  # UTF-8, not \u escapes
    assert [d["path"] for d in loads(result.stdout_bytes)["differences"]] == ['pnl["café"]', 'pnl["日本"]']
    table = cli("report", "diff", a, b, env=WIDE)
    assert table.exit_code == 1
    assert 'pnl["café"]' in table.stdout and '"🍵"' in table.stdout
    assert cli("report", "diff", a, b, "--ignore", "pnl.café", "--ignore", 'pnl["日本"]').exit_code == 0


def test_values_are_never_read_as_markup(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write(tmp_path / "a.json", {"risk": {"last_freeze_reason": "[bold red]x[/]"}})
    b = write(tmp_path / "b.json", {"risk": {"last_freeze_reason": "[link=http://x]y"}})
    result = cli("report", "diff", a, b, env=WIDE)
    assert '"[bold red]x[/]"' in result.stdout and '"[link=http://x]y"' in result.stdout


def test_limit_cuts_the_table_but_not_the_json(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write(tmp_path / "a.json", {"x": list(range(300))})
    b = write(tmp_path / "b.json", {"x": [i + 1 for i in range(300)]})
    result = cli("report", "diff", a, b, env=WIDE)
    assert len(table_rows(result)) == 200
    assert result.stdout.splitlines()[-1].strip() == "… and 100 more (--json lists all)"
    assert result.stderr == "300 differences\n"
    everything = cli("report", "diff", a, b, "--limit", "0", env=WIDE)
    assert len(table_rows(everything)) == 300
    assert "more" not in everything.stdout
    assert len(table_rows(cli("report", "diff", a, b, "--limit", "3", env=WIDE))) == 3
    assert loads(cli("report", "diff", a, b, "--json", "--limit", "3").stdout_bytes)["count"] == 300


# -------------------------------------------------------------------------------------------- snapshots


def test_json_snapshot_seed_vs_later(cli, seed: str, later: str, snapshot_json) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", seed, later, "--json")
    assert result.exit_code == 1
    assert result.stdout_bytes == snapshot_json


def test_json_snapshot_with_ignore_and_tolerance(cli, seed: str, later: str, snapshot_json) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", seed, later, "--json", "--ignore", "runtime.*", "--rel-tol", "0.05")
    assert result.exit_code == 1
    assert result.stdout_bytes == snapshot_json


def test_json_snapshot_later_vs_seed(cli, seed: str, later: str, snapshot_json) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "diff", later, seed, "--json")
    assert result.exit_code == 1
    assert result.stdout_bytes == snapshot_json


# ------------------------------------------------------------------------------------------------- show


def test_show_renders_every_section_known_or_not(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = {
        **CHANGED,
        "recon": {"ok": True, "details": []},
        "zzz_custom": {"nested": {"deep": {"value": 3}}, "flag": None},
        "version": 3,
    }
    path = write(tmp_path / "r.json", report)
    result = cli("report", "show", path, env=WIDE)
    assert result.exit_code == 0, result.stderr
    titles = [line.strip() for line in result.stdout.splitlines() if line.strip() and line.strip()[0] not in "┏┃┡│└┌"]
    assert titles == ["execution", "orders", "positions", "risk", "fees", "recon", "version", "zzz_custom", "runtime"]
    cells = {cols[0]: cols[1] for cols in cell_rows(result.stdout)}
    assert cells["nested.deep.value"] == "3"
    assert cells['by_symbol["BTC.USDT"]'] == "1"
    assert cells["symbols"] == '["BTCUSDT","ETHUSDT","SOLUSDT"]'
    assert cells["note"] == "rabais café ☕"
    assert cells["frozen"] == "false"
    assert cells["flag"] == "null"
    assert cells["details"] == "[]"
    assert cells["(value)"] == "3"


def cell_rows(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")[1:-1]] for line in stdout.splitlines() if line.startswith("│")]


def test_show_right_aligns_numbers(cli, seed: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "show", seed, "--section", "risk", env=WIDE)
    assert result.exit_code == 0
    lines = {line.split("│")[1].strip(): line.split("│")[2] for line in result.stdout.splitlines() if "│" in line}
    assert lines["blocks_total"].endswith(" 7 ")  # right-aligned
    assert lines["last_freeze_reason"].startswith(" Edge below threshold")  # left-aligned


def test_show_lists_of_objects_as_tables_and_cuts_long_lists(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = [{"id": f"CLI{i:08d}", "price": 50000 + i, "side": "Buy"} for i in range(30)]
    path = write(tmp_path / "r.json", {"orders": {"placed": 30, "items": items, "ids": list(range(30))}})
    result = cli("report", "show", path, "--max-items", "3", env=WIDE)
    assert result.exit_code == 0
    out = result.stdout
    assert "orders.items" in out and "30 items (table orders.items)" in out
    rows = cell_rows(out)
    assert ["0", "CLI00000000", "50000", "Buy"] in rows
    assert ["2", "CLI00000002", "50002", "Buy"] in rows
    assert not any("CLI00000003" in r for row in rows for r in row)
    assert ["…", "… and 27 more", "", ""] in rows
    assert ["ids", "[0,1,2, … and 27 more]"] in rows


def test_show_mixed_lists_item_by_item(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "r.json", {"bybit": {"events": [1, {"code": 10006}, [2, 3], "x", None]}})
    result = cli("report", "show", path, "--max-items", "3", env=WIDE)
    assert result.exit_code == 0
    assert cell_rows(result.stdout) == [
        ["events[0]", "1"],
        ["events[1].code", "10006"],
        ["events[2]", "[2,3]"],
        ["events[…]", "… and 2 more"],
    ]


def test_tiny_relative_changes_keep_their_magnitude(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write(tmp_path / "a.json", {"pnl": {"net": 1000000.0}})
    b = write(tmp_path / "b.json", {"pnl": {"net": 1000000.01}})
    result = cli("report", "diff", a, b, env=WIDE)
    assert cell_rows(result.stdout) == [["pnl.net", "1000000.0", "1000000.01", "+0.01 (+1.00e-6%)"]]


def test_show_section_filter(cli, later: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "show", later, "-s", "fees", "--section", "orders", env=WIDE)
    assert result.exit_code == 0
    titles = [line.strip() for line in result.stdout.splitlines() if line[:1] not in "┏┃┡│└┌"]
    assert titles == ["fees", "orders"]
    result = cli("report", "show", later, "--section", "nope")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: no section 'nope' in the report (it has: execution, orders, positions, risk, fees, runtime) "
        "(flag --section)\n"
    )


def test_show_bad_input_exits_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "show", str(tmp_path / "none.json"))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: report file does not exist ({tmp_path / 'none.json'})\n"
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    result = cli("report", "show", str(bad))
    assert result.exit_code == 2
    assert result.stderr == f"error: report must be a JSON object at the top level, not an array ({bad})\n"


def test_show_empty_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "show", write(tmp_path / "e.json", {}))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "the report is empty\n")


# ------------------------------------------------------------------------------------------- end to end

ENGINE_READY = all(importlib.util.find_spec(m) is not None for m in ("mmexec.engine.loop", "mmexec.cli.shadow"))


def run_mmexec(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}
    return subprocess.run(
        [sys.executable, "-m", "mmexec", *args], cwd=cwd, env=env, capture_output=True, timeout=120, check=False
    )


@pytest.mark.skipif(not ENGINE_READY, reason="the engine (mmexec.engine.loop, mmexec shadow) is not there yet")
def test_shadow_runs_diff_equal_for_same_inputs_and_differ_for_other_seeds(tmp_path: Path) -> None:
    reports = {}
    for name, seed in (("a", "7"), ("a_again", "7"), ("b", "8")):
        run = run_mmexec("shadow", "--iterations", "200", "--seed", seed, "--symbols", "BTCUSDT,ETHUSDT", cwd=tmp_path)
        assert run.returncode == 0, run.stderr.decode()
        reports[name] = tmp_path / f"{name}.json"
        reports[name].write_bytes(run.stdout)
    same = run_mmexec("report", "diff", str(reports["a"]), str(reports["a_again"]), cwd=tmp_path)
    assert (same.returncode, same.stdout, same.stderr) == (0, b"", b"no differences\n")
    other = run_mmexec("report", "diff", "--json", str(reports["a"]), str(reports["b"]), cwd=tmp_path)
    assert other.returncode == 1, other.stderr.decode()
    differences = loads(other.stdout)["differences"]
    assert {"path": "config.seed", "segments": ["config", "seed"], "kind": "changed", "a": 7, "b": 8,
            "abs_change": 1, "rel_change": 1 / 7} in differences  # fmt: skip
    assert any(d["path"].startswith(("orders.", "positions.")) for d in differences)
    shown = run_mmexec("report", "show", str(reports["a"]), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr.decode()
    assert b"execution" in shown.stdout and b"positions" in shown.stdout


def test_command_module_imports_only_typer() -> None:
    code = (
        "import sys, mmexec.cli.report; "
        "heavy = {'rich', 'orjson', 'pydantic', 'mmexec.reporting.diff'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False, timeout=60)
    assert run.returncode == 0, run.stderr.decode()
