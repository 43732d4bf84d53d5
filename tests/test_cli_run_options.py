"""The run commands as a whole: foreign-exchange keys, warnings, outputs, --show-config, --help, --progress."""

from __future__ import annotations

import json
import os
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

FAST = ("--iterations", "3")


def assert_exit_2(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# --- keys of the other exchange ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("--rate-limit-capacity", "1", "--api-env", "prod"), {}, "(flag --api-env)"),
        (("--rate-limit-refill", "3"), {}, "rate_limit_refill applies to the bybit exchange only"),
        (("--mode", "dryrun"), {}, "(flag --mode)"),
        ((), {"MMEXEC_SHADOW__API_ENV": "prod"}, "(env MMEXEC_SHADOW__API_ENV)"),
        (("--exchange", "bybit", "--reject-rate", "0.1"), {}, "reject_rate applies to the fake exchange only"),
    ],
)
def test_keys_of_the_other_exchange_are_refused(cli, args: tuple[str, ...], env: dict[str, str],
                                                needle: str) -> None:
    assert_exit_2(cli("shadow", *FAST, *args, env=env), needle)


def test_bybit_keys_accepted_with_bybit(cli) -> None:
    creds = {"BYBIT_API_KEY": "test-key-123", "BYBIT_API_SECRET": "test-secret-456"}
    result = cli("shadow", *FAST, "--exchange", "bybit", "--rate-limit-capacity", "5", "--api-env", "dev", env=creds)
    assert result.exit_code == 0, result.stderr


def test_bybit_dryrun_refuses_the_fake_exchange(cli) -> None:
    assert_exit_2(cli("bybit-dryrun", *FAST, "--exchange", "fake"), "bybit-dryrun always runs the Bybit client",
                  "(flag --exchange)")
    assert_exit_2(cli("bybit-dryrun", *FAST, env={"MMEXEC_BYBIT_DRYRUN__EXCHANGE": "fake"}),
                  "(env MMEXEC_BYBIT_DRYRUN__EXCHANGE)")


# --- warnings -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--order-notional", "20000", "--max-inv", "10000"), "order_notional 20000 USD is above max_inv 10000"),
        (("--order-notional", "20000", "--max-inv", "30000", "--max-total", "15000"), "above max_total 15000"),
    ],
)
def test_a_run_that_can_never_trade_warns_once(cli, args: tuple[str, ...], needle: str) -> None:
    result = cli("shadow", *FAST, *args)
    assert result.exit_code == 0
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("warning: ")
    assert needle in result.stderr and "(flag --order-notional;" in result.stderr
    assert json.loads(result.stdout)["orders"]["placed"] == 0


def test_ref_price_of_an_untraded_symbol_warns(cli) -> None:
    result = cli("shadow", *FAST, "--symbols", "BTCUSDT", "--ref-price", "SOLUSDT=140")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: ref_price given for SOLUSDT, which is not traded (symbols: BTCUSDT) (flag --ref-price)\n"
    )


def test_a_normal_run_prints_no_warning(cli) -> None:
    result = cli("shadow", *FAST, "--ref-price", "BTCUSDT=60000")
    assert result.exit_code == 0 and result.stderr == ""


# --- outputs ----------------------------------------------------------------------------------------------


def test_out_and_fills_out_same_file_refused(cli, tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    assert_exit_2(cli("shadow", *FAST, "--out", str(target), "--fills-out", str(target)), "same file")
    assert_exit_2(cli("shadow", *FAST, "--out", "x.json", "--fills-out", "./sub/../x.json"), "same file")
    target.write_text("{}")
    (tmp_path / "link.json").symlink_to(target)
    assert_exit_2(cli("shadow", *FAST, "--out", str(target), "--fills-out", str(tmp_path / "link.json")),
                  "same file")
    assert target.read_text() == "{}"


def test_out_and_fills_out_different_files(cli, tmp_path: Path) -> None:
    result = cli("shadow", *FAST, "--out", "r.json", "--fills-out", "f.jsonl")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "r.json").exists() and (tmp_path / "f.jsonl").exists()


# --- --show-config and config show ---------------------------------------------------------------------------


def _origin_comments(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if "=" in line and "  # " in line:
            key = line.lstrip("# ").split(" = ")[0]
            out[key] = line.rsplit("  # ", 1)[1].split(";")[0]
    return out


def test_show_config_prints_this_command_lines_values_and_origins(cli, tmp_path: Path) -> None:
    (tmp_path / "mmexec.toml").write_text("[shadow]\nlatency_ms = 50\n")
    result = cli("shadow", "--iterations", "7", "--ref-price", "SOLUSDT=140.5", "--symbols", "SOLUSDT",
                 "--show-config", "--out", "never.json", env={"MMEXEC_SHADOW__SEED": "9"})
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "never.json").exists()  # nothing ran
    data = tomllib.loads(result.stdout)["shadow"]
    assert data["iterations"] == 7 and data["seed"] == 9 and data["latency_ms"] == 50
    assert data["ref_price"] == {"SOLUSDT": 140.5}
    assert data["shadow"] is True and data["network"] is False
    assert "unfreeze_after_ms" not in data  # None is commented out
    origins = _origin_comments(result.stdout)
    assert origins["iterations"] == "flag --iterations"
    assert origins["seed"] == "env MMEXEC_SHADOW__SEED"
    assert origins["latency_ms"].startswith("file ") and origins["latency_ms"].endswith("[shadow]")
    assert origins["fill_rate"] == "default"


def test_show_config_still_validates(cli) -> None:
    assert_exit_2(cli("shadow", "--show-config", "--fill-rate", "2"), "fill_rate")


def test_config_show_prints_pasteable_toml(cli, tmp_path: Path) -> None:
    (tmp_path / "mmexec.toml").write_text(
        '[shadow]\nref_price = { SOLUSDT = 140 }\nmax_inv = "12345.678"\n[secrets]\nbackend = "file"\n'
    )
    result = cli("config", "show")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for table in ("[shadow]", "[bybit_dryrun]", "[fees]", "[secrets]"):
        assert f"\n{table}\n" in text
    assert "Decimal(" not in text and "True" not in text and "None" not in text
    parsed = tomllib.loads(text, parse_float=Decimal)
    assert parsed["shadow"]["ref_price"] == {"SOLUSDT": 140}
    assert parsed["shadow"]["max_inv"] == Decimal("12345.678")
    assert parsed["shadow"]["shadow"] is True
    # Pasting the output back as a config file gives the same effective values.
    (tmp_path / "mmexec.toml").write_text(text)
    again = cli("config", "show")
    assert again.exit_code == 0, again.stderr
    assert tomllib.loads(again.stdout) == tomllib.loads(text)


def test_config_show_json_keeps_its_shape(cli) -> None:
    data = json.loads(cli("config", "show", "--json", "--table", "shadow").stdout)
    assert data["tables"]["shadow"]["max_inv"] == {"value": 10000, "origin": "default",
                                                   "env": "MMEXEC_SHADOW__MAX_INV"}


# --- help: one source, panels, defaults --------------------------------------------------------------------


def test_help_groups_options_by_topic_and_shows_defaults(cli) -> None:
    result = cli("shadow", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = result.stdout
    positions = [text.index(f"─ {panel} ") for panel in ("Run", "Risk", "Exchange", "Fees", "Output")]
    assert positions == sorted(positions)
    assert "[default: BTCUSDT,ETHUSDT]" in text
    assert "[default: 10000]" in text and "[default: 1.5]" in text and "[default: never]" in text
    assert "--show-config" in text


def test_every_settings_field_is_an_option_with_its_declared_help_and_default() -> None:
    import typer

    from mmexec.cli.run_command import build_run_app
    from mmexec.config.run import RUN_TABLES

    for table, cls in RUN_TABLES.items():
        command = typer.main.get_command(build_run_app(table, "x", "x"))
        params = {p.name: p for p in command.params}
        for name, info in cls.model_fields.items():
            assert name in params, name
            assert params[name].help is not None and str(info.description) in params[name].help
            assert params[name].default in (None, False)  # "not given": env and file still apply
    bybit = typer.main.get_command(build_run_app("bybit_dryrun", "x", "x"))
    exchange = next(p for p in bybit.params if p.name == "exchange")
    assert "[default: bybit]" in str(exchange.help)


# --- progress -----------------------------------------------------------------------------------------------


def test_explicit_progress_off_a_terminal_prints_plain_lines(cli) -> None:
    result = cli("shadow", "--iterations", "1000", "--progress")
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: trading frozen")]
    assert lines[0] == "progress: 100/1000 iterations (10%)"
    assert lines[-1] == "progress: 1000/1000 iterations (100%)"
    assert len(lines) == 10
    assert json.loads(result.stdout)["execution"]["iterations"] == 1000


def test_no_progress_by_default_off_a_terminal(cli) -> None:
    stderr = cli("shadow", "--iterations", "1000").stderr
    assert [line for line in stderr.splitlines() if not line.startswith("warning: trading frozen")] == []


def test_root_help_does_not_import_pydantic() -> None:
    import subprocess
    import sys

    code = "import sys; from mmexec.cli import app; assert not any(m.startswith('pydantic') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
