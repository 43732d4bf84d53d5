"""The installed `mmexec` console script, run as a real process (no network, no sleeps)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_SIBLING = Path(sys.executable).with_name("mmexec")
# The console script installed next to this interpreter (the test venv), else whatever PATH has.
MMEXEC = str(_SIBLING) if _SIBLING.exists() else shutil.which("mmexec")
pytestmark = pytest.mark.skipif(MMEXEC is None, reason="mmexec is not installed: pip install -e .")


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MMEXEC_", "BYBIT_"))}
    full_env.update(env or {})
    return subprocess.run([MMEXEC or "mmexec", *args], capture_output=True, env=full_env, cwd=cwd, timeout=120,
                          check=False)


def test_seed_default_run_is_deterministic_across_hash_seeds(tmp_path: Path) -> None:
    args = ("shadow", "--symbols", "BTCUSDT,ETHUSDT", "--iterations", "200")
    a = run(*args, env={"PYTHONHASHSEED": "0", "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}, cwd=tmp_path)
    b = run(*args, env={"PYTHONHASHSEED": "4242", "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}, cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert a.stderr == b.stderr  # the kill switch's one-line notice, the same in both
    assert all(line.startswith(b"warning: trading frozen at ") for line in a.stderr.splitlines())
    assert json.loads(a.stdout)["runtime"]["utc"] == "2025-01-01T00:00:00Z"


def test_without_frozen_time_only_runtime_utc_changes(tmp_path: Path) -> None:
    env = {"MM_FREEZE_UTC_ISO": ""}
    a = json.loads(run("shadow", "--iterations", "20", env=env, cwd=tmp_path).stdout)
    b = json.loads(run("shadow", "--iterations", "20", env={"MM_FREEZE_UTC_ISO": "2030-06-01T12:00:00Z"},
                       cwd=tmp_path).stdout)
    assert a["runtime"]["utc"].endswith("Z")
    assert b["runtime"]["utc"] == "2030-06-01T12:00:00Z"
    a.pop("runtime"), b.pop("runtime")
    assert a == b


def test_python_dash_m_matches_console_script(tmp_path: Path) -> None:
    env = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}
    via_module = subprocess.run([sys.executable, "-m", "mmexec", "shadow", "--iterations", "10"], capture_output=True,
                                env=env, cwd=tmp_path, timeout=120, check=False)
    via_script = run("shadow", "--iterations", "10", env={"MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}, cwd=tmp_path)
    assert via_module.returncode == 0
    assert via_module.stdout == via_script.stdout


def test_bad_value_exit_2_without_traceback(tmp_path: Path) -> None:
    result = run("shadow", "--fill-rate", "1.5", "--iterations", "5", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().startswith("error: invalid fill_rate '1.5'")
    assert b"Traceback" not in result.stderr


def test_help_and_version(tmp_path: Path) -> None:
    assert run("--help", cwd=tmp_path).returncode == 0
    assert run("shadow", "--help", cwd=tmp_path).stdout.count(b"--fill-rate") == 1
    assert run("--version", cwd=tmp_path).stdout.startswith(b"mmexec ")


def test_importing_mmexec_stays_light() -> None:
    code = ("import sys, mmexec; heavy = [m for m in ('pydantic', 'boto3', 'orjson', 'mmexec.engine', 'typer') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
