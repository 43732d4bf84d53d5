"""`mmexec bybit-dryrun` (and `mmexec shadow --exchange bybit`): reports, snapshots, safety, logs, config."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from secrets_support import assert_not_leaked

KEY = "AKbybitCliKey4242"
SECRET = "SKbybitCliSecret7171zz"
CREDS = {"BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}
SEED_KEYS = {
    "execution": {"iterations", "symbols"},
    "orders": {"placed", "filled", "rejected", "canceled", "risk_blocks"},
    "positions": {"by_symbol", "net_pos_usd", "total_notional_usd"},
    "risk": {"frozen", "freeze_events", "last_freeze_reason", "last_freeze_symbol", "blocks_total", "freezes_total"},
    "runtime": {"utc"},
}
SCENARIOS = {
    "default": [],
    "rate_limited": ["--fill-rate", "0.95", "--partial-fill-rate", "0.3", "--rate-limit-capacity", "4",
                     "--rate-limit-refill", "2.5", "--iterations", "40"],
    "freeze": ["--edge-threshold", "2.8", "--iterations", "60", "--unfreeze-after-ms", "1000", "--mode", "dryrun",
               "--api-env", "shadow"],
}


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)


def report_of(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout_bytes)
    return data


# ------------------------------------------------------------------------------------------- snapshots
@pytest.mark.usefixtures("creds")
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_report_snapshot(cli: Any, snapshot_json: Any, scenario: str) -> None:
    result = cli("bybit-dryrun", *SCENARIOS[scenario])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == snapshot_json


@pytest.mark.usefixtures("creds")
def test_scenarios_show_what_they_are_about(cli: Any) -> None:
    default = report_of(cli("bybit-dryrun"))
    for section, keys in SEED_KEYS.items():
        assert keys <= set(default[section]), section
    bybit = default["bybit"]
    assert bybit["dry_run"] is True and bybit["network"] is False and bybit["rate_limited"] == 0
    assert bybit["requests"]["signed"] == sum(bybit["requests"]["by_endpoint"].values()) > 0
    assert default["orders"]["rejected"] == 0  # reject_rate is the fake exchange's; Bybit refuses for cause only
    assert default["recon"]["ok"] is True

    limited = report_of(cli("bybit-dryrun", *SCENARIOS["rate_limited"]))
    assert limited["bybit"]["rate_limited"] > 0
    assert limited["bybit"]["responses"]["by_ret_code"]["10006"] == limited["bybit"]["rate_limited"]
    assert limited["orders"]["rejected"] > 0 and limited["orders"]["partial_fills"] > 0
    assert limited["recon"]["ok"] is True

    frozen = report_of(cli("bybit-dryrun", *SCENARIOS["freeze"]))
    assert frozen["risk"]["frozen"] is True and frozen["orders"]["open"] == 0
    assert (frozen["bybit"]["mode"], frozen["bybit"]["api_env"]) == ("dryrun", "shadow")


@pytest.mark.usefixtures("creds")
def test_shadow_with_exchange_bybit_is_the_same_run(cli: Any) -> None:
    direct = cli("bybit-dryrun", "--iterations", "30")
    via_shadow = cli("shadow", "--exchange", "bybit", "--iterations", "30")
    assert direct.exit_code == via_shadow.exit_code == 0
    assert direct.stdout_bytes == via_shadow.stdout_bytes


@pytest.mark.usefixtures("creds")
def test_the_seeds_command_line_runs(cli: Any) -> None:
    report = report_of(cli(
        "shadow", "--shadow", "--exchange", "bybit", "--mode", "shadow", "--no-network", "--symbols",
        "BTCUSDT,ETHUSDT", "--iterations", "50", "--max-inv", "10000", "--max-total", "50000", "--edge-threshold",
        "1.5", "--fill-rate", "0.8", "--latency-ms", "100"))
    assert report["execution"]["symbols"] == ["BTCUSDT", "ETHUSDT"] and "bybit" in report
    assert report["bybit"]["simulation"]["fill_rate"] == 0.8


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMEXEC_", "BYBIT_", "AWS_"))}
    env.update(CREDS)
    env["MM_FREEZE_UTC_ISO"] = "2025-01-01T00:00:00Z"
    env.update(extra)
    return env


def test_same_inputs_give_byte_identical_reports_across_processes(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    args = ["bybit-dryrun", *SCENARIOS["rate_limited"]]
    outputs = [
        subprocess.run([sys.executable, "-m", "mmexec", *args], capture_output=True, check=True, cwd=tmp_path,
                       env=_subprocess_env(PYTHONHASHSEED=seed)).stdout
        for seed in ("0", "4242")
    ]
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    assert outputs[0] == outputs[1] == cli(*args).stdout_bytes


# ------------------------------------------------------------------------------------------- safety
def test_network_is_refused_with_exit_2(cli: Any, creds: None) -> None:
    result = cli("bybit-dryrun", "--network")
    assert result.exit_code == 2 and result.stdout_bytes == b""
    assert "network mode is not available" in result.stderr and "--no-network" in result.stderr
    assert report_of(cli("bybit-dryrun", "--no-network", "--iterations", "2"))["bybit"]["network"] is False


def test_missing_credentials_exit_2_naming_what_to_set(cli: Any) -> None:
    result = cli("bybit-dryrun")
    assert result.exit_code == 2 and result.stdout_bytes == b""
    for text in ("BYBIT_API_KEY", "BYBIT_API_SECRET", "mmexec secrets save"):
        assert text in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("creds")
def test_no_socket_is_opened_in_a_dry_run(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(name)
            raise AssertionError(f"network access attempted: {name}")
        return blocked

    monkeypatch.setattr(socket, "socket", refuse("socket.socket"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    result = cli("bybit-dryrun", "--iterations", "200", "--log-level", "debug")
    assert result.exit_code == 0, result.stderr
    assert attempts == []
    assert report_of(result)["bybit"]["requests"]["signed"] > 0


# ------------------------------------------------------------------------------------------- secrets & logs
def test_no_output_or_file_of_a_run_holds_a_credential(tmp_path: Path, cli: Any, creds: None,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    out, fills = tmp_path / "report.json", tmp_path / "fills.jsonl"
    args = ["bybit-dryrun", "--log-level", "debug", "--iterations", "40", "--rate-limit-capacity", "5",
            "--out", str(out), "--fills-out", str(fills)]
    proc = subprocess.run([sys.executable, "-m", "mmexec", *args], capture_output=True, check=False, cwd=tmp_path,
                          env=_subprocess_env())
    assert proc.returncode == 0, proc.stderr
    assert b"bybit_request" in proc.stderr and b"AKb...***" in proc.stderr  # the debug log ran, key masked
    in_process = cli(*args[:-4])
    captured = capfd.readouterr()
    assert in_process.exit_code == 0
    assert_not_leaked(proc.stdout, proc.stderr, in_process.stdout_bytes, in_process.stderr, captured.out,
                      captured.err, root=tmp_path, needles=(KEY, SECRET))
    assert out.read_bytes() and fills.read_bytes()


@pytest.mark.usefixtures("creds")
def test_logs_are_json_lines_on_stderr_and_stdout_is_only_the_report(cli: Any) -> None:
    result = cli("bybit-dryrun", "--iterations", "5", "--log-level", "DEBUG", "--rate-limit-capacity", "1")
    report_of(result)  # stdout parses as exactly one JSON document
    lines = result.stderr.splitlines()
    assert lines
    records = [json.loads(line) for line in lines]
    assert all({"ts", "level", "logger", "event"} <= set(r) for r in records)
    events = {r["event"] for r in records}
    assert {"bybit_client_init", "bybit_request", "bybit_request_refused"} <= events
    init = next(r for r in records if r["event"] == "bybit_client_init")
    assert init["api_key"] == "AKb...***" and init["dry_run"] is True
    refused = next(r for r in records if r["event"] == "bybit_request_refused")
    assert refused["ret_code"] == 10006 and refused["ret_msg"] == "Too many visits!"


@pytest.mark.usefixtures("creds")
def test_default_log_level_is_quiet_and_bad_levels_exit_2(cli: Any) -> None:
    quiet = cli("bybit-dryrun", "--iterations", "5")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    info = cli("shadow", "--iterations", "5", "--log-level", "info")  # the flag exists on both commands
    assert info.exit_code == 0
    bad = cli("bybit-dryrun", "--log-level", "verbose")
    assert bad.exit_code == 2 and "--log-level" in bad.stderr and bad.stdout_bytes == b""


# ------------------------------------------------------------------------------------------- configuration
@pytest.mark.usefixtures("creds")
def test_bybit_dryrun_table_and_env(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mmexec.toml").write_text(
        '[bybit_dryrun]\nrate_limit_capacity = 7\nrate_limit_refill = "0.5"\napi_env = "soak"\nmode = "dryrun"\n')
    bybit = report_of(cli("bybit-dryrun", "--iterations", "5"))["bybit"]
    assert bybit["rate_limit"]["orders"]["capacity"] == 7 and bybit["rate_limit"]["orders"]["refill_per_s"] == 0.5
    assert (bybit["api_env"], bybit["mode"]) == ("soak", "dryrun")
    monkeypatch.setenv("MMEXEC_BYBIT_DRYRUN__API_ENV", "prod")
    assert report_of(cli("bybit-dryrun", "--iterations", "5"))["bybit"]["api_env"] == "prod"
    assert report_of(cli("bybit-dryrun", "--iterations", "5", "--api-env", "dev"))["bybit"]["api_env"] == "dev"
    bad = cli("bybit-dryrun", "--mode", "live")
    assert bad.exit_code == 2 and "--mode" in bad.stderr


SCRIPT = shutil.which("mmexec") or str(Path(sys.executable).with_name("mmexec"))


@pytest.mark.skipif(not Path(SCRIPT).exists(), reason="console script not installed")
def test_installed_console_script(tmp_path: Path) -> None:
    proc = subprocess.run([SCRIPT, "bybit-dryrun", "--iterations", "3"], capture_output=True,
                          check=False, cwd=tmp_path, env=_subprocess_env())
    assert proc.returncode == 0 and json.loads(proc.stdout)["bybit"]["dry_run"] is True
