"""`mmexec shadow` through Typer's CliRunner: streams, errors, config layering, atomic --out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmexec import __version__

FAST = ("--iterations", "5")


def test_report_on_stdout_only(cli) -> None:
    result = cli("shadow", "--symbols", "BTCUSDT,ETHUSDT", *FAST)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("}\n")
    report = json.loads(result.stdout)
    for section in ("execution", "orders", "positions", "risk", "runtime", "config"):
        assert section in report
    assert report["runtime"]["utc"] == "2025-01-01T00:00:00Z"
    assert report["execution"] == {"iterations": 5, "symbols": ["BTCUSDT", "ETHUSDT"], "quotes": 10, "virtual_ms": 500}


def test_report_bytes_are_canonical(cli) -> None:
    out = cli("shadow", *FAST).stdout
    assert out == json.dumps(json.loads(out), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_seed_invocation_flags_are_accepted(cli) -> None:
    result = cli(
        "shadow", "--shadow", "--exchange", "fake", "--symbols", "BTCUSDT,ETHUSDT", "--iterations", "50",
        "--max-inv", "10000", "--max-total", "50000", "--edge-threshold", "1.5", "--fill-rate", "0.7",
        "--reject-rate", "0.05", "--latency-ms", "100",
    )
    assert result.exit_code == 0, result.stderr
    config = json.loads(result.stdout)["config"]
    assert config["max_inv"] == 10000.0
    assert config["exchange"] == "fake"


def test_version(cli) -> None:
    from mmexec._build import engine_build

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mmexec {__version__}, engine: {engine_build()}"
    assert engine_build() in ("compiled (mypyc)", "pure Python")


def test_help_lists_every_command(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("shadow", "bybit-dryrun", "fees", "secrets", "report", "config"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("--fill-rate", "1.5"), {}, "fill_rate '1.5'"),
        (("--reject-rate", "-0.1"), {}, "reject_rate '-0.1'"),
        (("--partial-fill-rate", "2"), {}, "partial_fill_rate '2'"),
        (("--iterations", "-1"), {}, "iterations '-1'"),
        (("--max-inv", "-5"), {}, "max_inv '-5'"),
        (("--max-total", "-5"), {}, "max_total '-5'"),
        (("--latency-ms", "-3"), {}, "latency_ms '-3'"),
        (("--symbols", ""), {}, "symbol list is empty"),
        (("--symbols", "BTC USDT"), {}, "bad symbol"),
        (("--fill-rate", "abc"), {}, "fill_rate 'abc'"),
        (("--fill-rate", "nan"), {}, "fill_rate 'nan'"),
        ((), {"MMEXEC_SHADOW__ITERATIONS": "-2"}, "(env MMEXEC_SHADOW__ITERATIONS)"),
        ((), {"MMEXEC_SHADOW__FILL_RATE": "7"}, "(env MMEXEC_SHADOW__FILL_RATE)"),
        ((), {"MM_FREEZE_UTC_ISO": "yesterday"}, "(env MM_FREEZE_UTC_ISO)"),
        ((), {"MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00"}, "time zone"),
        (("--exchange", "binance"), {}, "exchange 'binance'"),
        (("--network",), {}, "network mode is not available"),
        (("--config", "missing.toml"), {}, "does not exist (--config)"),
        ((), {"MMEXEC_CONFIG": "nope.toml"}, "(MMEXEC_CONFIG)"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, args, env, needle) -> None:
    base = () if "MMEXEC_SHADOW__ITERATIONS" in env or "--iterations" in args else FAST  # a flag would win
    result = cli("shadow", *base, *args, env=env)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert needle in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[shadow]\nfoo = 1\n", "unknown key 'foo' in [shadow]"),
        ("[shadow]\nlatency_ms = -4\n", "latency_ms -4"),
        ("[shadow\n", "malformed TOML"),
        ("[shadoww]\n", "unknown table or key 'shadoww'"),
        ("iterations = 3\n", "unknown table or key 'iterations'"),
        ("[shadow]\nfill_rate = 'high'\n", "fill_rate 'high'"),
    ],
)
def test_bad_config_file(cli, tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    out = tmp_path / "report.json"
    result = cli("shadow", *FAST, "--config", str(path), "--out", str(out))
    assert result.exit_code == 2
    assert needle in result.stderr
    assert str(path) in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_precedence_flag_over_env_over_file_over_default(cli, tmp_path: Path) -> None:
    path = tmp_path / "mmexec.toml"
    path.write_text('[shadow]\nseed = 7\niterations = 3\nsymbols = ["SOLUSDT"]\nlatency_ms = 50\n')
    env = {"MMEXEC_SHADOW__SEED": "8", "MMEXEC_SHADOW__ITERATIONS": "4"}
    result = cli("shadow", "--iterations", "2", env=env)  # ./mmexec.toml is picked up (cwd = tmp_path)
    assert result.exit_code == 0, result.stderr
    config = json.loads(result.stdout)["config"]
    assert config["iterations"] == 2  # flag
    assert config["seed"] == 8  # env
    assert config["symbols"] == ["SOLUSDT"]  # file
    assert config["latency_ms"] == 50  # file
    assert config["fill_rate"] == 0.7  # default


def test_env_symbols_comma_separated_and_toml_string(cli, tmp_path: Path) -> None:
    result = cli("shadow", *FAST, env={"MMEXEC_SHADOW__SYMBOLS": "btcusdt, SOLUSDT"})
    assert json.loads(result.stdout)["execution"]["symbols"] == ["BTCUSDT", "SOLUSDT"]
    path = tmp_path / "c.toml"
    path.write_text('[shadow]\nsymbols = "ETHUSDT,XRPUSDT"\n')
    result = cli("shadow", *FAST, "--config", str(path))
    assert json.loads(result.stdout)["execution"]["symbols"] == ["ETHUSDT", "XRPUSDT"]


def test_ref_price_flag_sets_unknown_symbol_price(cli) -> None:
    result = cli("shadow", *FAST, "--symbols", "FOOUSDT", "--ref-price", "FOOUSDT=2.5")
    assert result.exit_code == 0, result.stderr
    mid = json.loads(result.stdout)["positions"]["last_mid"]["FOOUSDT"]
    assert 2.0 < mid < 3.0


def test_out_writes_file_atomically_and_nothing_on_stdout(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = cli("shadow", *FAST, "--out", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_bytes() == cli("shadow", *FAST).stdout_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_out_into_missing_directory_fails_cleanly(cli, tmp_path: Path) -> None:
    result = cli("shadow", *FAST, "--out", str(tmp_path / "no" / "r.json"))
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr


def test_config_show_reports_origins(cli, tmp_path: Path) -> None:
    (tmp_path / "mmexec.toml").write_text("[shadow]\niterations = 7\n")
    result = cli("config", "show", "--json", env={"MMEXEC_SHADOW__SEED": "9"})
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    shadow = data["tables"]["shadow"]
    assert shadow["iterations"] == {"value": 7, "origin": f"file {tmp_path / 'mmexec.toml'} [shadow]",
                                    "env": "MMEXEC_SHADOW__ITERATIONS"}
    assert shadow["seed"]["origin"] == "env MMEXEC_SHADOW__SEED"
    assert shadow["fill_rate"]["origin"] == "default"
    assert data["config_file"]["chosen_by"] == "./mmexec.toml"
    assert set(data["tables"]) >= {"shadow", "bybit_dryrun"}


def test_config_show_table_view_and_bad_table(cli) -> None:
    result = cli("config", "show", "--table", "shadow")
    assert result.exit_code == 0
    assert "fill_rate" in result.stdout and "default" in result.stdout
    bad = cli("config", "show", "--table", "nope")
    assert bad.exit_code == 2
    assert "unknown table 'nope'" in bad.stderr


def test_debug_flag_shows_traceback_for_errors(cli) -> None:
    result = cli("--debug", "shadow", "--fill-rate", "5")
    assert result.exit_code == 2
    assert "error: invalid fill_rate" in result.stderr


def test_progress_goes_to_stderr_and_stdout_stays_json(cli) -> None:
    result = cli("shadow", "--iterations", "300", "--progress")
    assert result.exit_code == 0
    json.loads(result.stdout)


def test_closed_stdout_is_not_an_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "mmexec", "shadow", "--iterations", "2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in err and b"error" not in err


def test_every_listed_command_resolves_and_has_help(cli) -> None:
    from mmexec.cli import COMMANDS

    for name, (_module, _attr, summary) in COMMANDS.items():
        assert summary.endswith(".")
        result = cli(name, "--help")
        assert result.exit_code == 0, (name, result.stderr)
        assert "Usage: mmexec " + name in result.stdout
