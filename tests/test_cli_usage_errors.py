"""Click's usage errors become the one-line ``error: ...`` form (exit 2) for every command, with relevant hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAST = ("--iterations", "3")


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Usage:" not in result.stderr and "Try '" not in result.stderr
    return str(result.stderr)


def test_unknown_option_suggests_nothing_unrelated(cli) -> None:
    err = one_line(cli("shadow", "--bogus"))
    assert "unknown option --bogus" in err
    assert "--out" not in err and "--symbols" not in err
    assert "(command line: mmexec shadow)" in err


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (("shadow", "--iteratons", "3"), "did you mean --iterations?"),
        (("shadow", "--max-invv", "3"), "did you mean --max-inv?"),
        (("bybit-dryrun", "--rate-limit-capacty", "3"), "did you mean --rate-limit-capacity?"),
        (("shadwo",), "did you mean shadow?"),
    ],
)
def test_close_typos_get_a_suggestion(cli, args: tuple[str, ...], suggestion: str) -> None:
    assert suggestion in one_line(cli(*args))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("report", "diff", "a.json"), "missing argument"),
        (("report", "diff", "--limit", "-1", "a.json", "b.json"), "(flag --limit)"),
        (("shadow", "--iterations"), "requires an argument"),
        (("secrets", "show", "--bogus"), "unknown option --bogus"),
        (("fees", "--bogus"), "unknown option --bogus"),
        (("config", "show", "--bogus"), "unknown option --bogus"),
    ],
)
def test_usage_errors_of_every_command_are_one_line(cli, args: tuple[str, ...], needle: str) -> None:
    assert needle in one_line(cli(*args))


@pytest.mark.parametrize("flag", ["--out", "--config", "--fills-out"])
def test_directory_where_a_file_is_expected(cli, tmp_path: Path, flag: str) -> None:
    err = one_line(cli("shadow", *FAST, flag, str(tmp_path)))
    assert "is a directory" in err and f"(flag {flag})" in err


def test_config_show_directory(cli, tmp_path: Path) -> None:
    assert "(flag --config)" in one_line(cli("config", "show", "--config", str(tmp_path)))


def test_no_arguments_still_prints_help(cli) -> None:
    result = cli()
    assert "Usage:" in result.stdout + result.stderr


def test_installed_cli_one_line_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}
    done = subprocess.run([sys.executable, "-m", "mmexec", "shadow", "--bogus"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: unknown option --bogus")


def test_exit_codes_of_commands_survive(cli, tmp_path: Path) -> None:
    """The one-line handling keeps each command's own exit code (0 ok, 1 differences)."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"x": 1}))
    b.write_text(json.dumps({"x": 2}))
    assert cli("report", "diff", str(a), str(a)).exit_code == 0
    assert cli("report", "diff", str(a), str(b)).exit_code == 1
    assert cli("--version").exit_code == 0
