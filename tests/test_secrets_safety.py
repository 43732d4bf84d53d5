"""No credential value in any output or written file, for every secrets command -- failing ones included.

Every case runs in-process (CliRunner's stdout/stderr plus anything written straight to file descriptors 1
and 2, through ``capfd``), failing ones with and without ``--debug``; a representative subset also runs the
CLI as a real process. Then every file below the test's directory except the secrets file itself is searched
for the key and the secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from secrets_support import KEY, SECRET, assert_not_leaked, free_port

from mmexec.secrets.provider import SecretProvider

Setup = Callable[[Path], dict[str, str]]


def store_path(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "mmexec" / "secrets.json"


def nothing(tmp_path: Path) -> dict[str, str]:
    return {}


def saved(tmp_path: Path) -> dict[str, str]:
    SecretProvider(backend="file").save("bybit", "shadow", api_key=KEY, api_secret=SECRET)
    return {}


def saved_0644(tmp_path: Path) -> dict[str, str]:
    saved(tmp_path)
    os.chmod(store_path(tmp_path), 0o644)
    return {}


def saved_corrupt(tmp_path: Path) -> dict[str, str]:
    saved(tmp_path)
    path = store_path(tmp_path)
    path.write_bytes(path.read_bytes()[:-20])  # truncated JSON that still holds the key and the secret
    return {}


def env_vars(tmp_path: Path) -> dict[str, str]:
    return {"BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}


def aws_down(tmp_path: Path) -> dict[str, str]:
    return {
        "MMEXEC_SECRETS__BACKEND": "aws",
        "MMEXEC_SECRETS__AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }


BYBIT = ["--exchange", "bybit", "--env", "shadow"]
STDIN_BOTH = f"{KEY}\n{SECRET}\n"

SUCCEEDING: list[tuple[str, Setup, list[str], str]] = [
    ("save-prompts", nothing, ["save", *BYBIT], STDIN_BOTH),  # (at a terminal: see TERMINAL)
    ("save-stdin", nothing, ["save", *BYBIT, "--api-key", "-", "--api-secret", "-"], STDIN_BOTH),
    ("save-flags-json", nothing, ["save", *BYBIT, "--api-key", KEY, "--api-secret", SECRET, "--json"], ""),
    ("show", saved, ["show", *BYBIT], ""),
    ("show-json", saved, ["show", *BYBIT, "--json"], ""),
    ("show-env", env_vars, ["show", *BYBIT, "--json"], ""),
    ("list", saved, ["list"], ""),
    ("list-json-env", env_vars, ["list", "--json"], ""),
    ("delete", saved, ["delete", *BYBIT, "--yes"], ""),
    ("delete-asked", saved, ["delete", *BYBIT], "y\n"),
]

# Cases run in-process with a terminal standing in on stdin (CliRunner's stdin is never one).
TERMINAL = {"save-prompts", "delete-asked"}

FAILING: list[tuple[str, Setup, list[str], str]] = [
    ("save-prompts-no-terminal", nothing, ["save", *BYBIT], STDIN_BOTH),
    ("delete-no-terminal", saved, ["delete", *BYBIT], "y\n"),
    ("bad-backend", nothing, ["save", *BYBIT, "--backend", "vault"], STDIN_BOTH),
    ("memory-backend", nothing, ["show", *BYBIT, "--backend", "memory"], ""),
    ("unknown-exchange", nothing, ["save", "--exchange", "okx", "--env", "dev", "--api-key", KEY], STDIN_BOTH),
    ("unknown-env", nothing, ["save", "--exchange", "bybit", "--env", "live", "--api-secret", SECRET], ""),
    ("empty-key", nothing, ["save", *BYBIT, "--api-key", "", "--api-secret", "-"], SECRET + "\n"),
    ("secret-with-space", nothing, ["save", *BYBIT, "--api-key", KEY, "--api-secret", "-"], f"{SECRET} x\n"),
    ("extra-argument", nothing, ["save", *BYBIT, "--api-key", KEY, SECRET], ""),
    ("env-read-only", env_vars, ["save", *BYBIT, "--backend", "env"], STDIN_BOTH),
    ("missing", nothing, ["show", *BYBIT], ""),
    ("0644-show", saved_0644, ["show", *BYBIT], ""),
    ("0644-list", saved_0644, ["list", "--json"], ""),
    ("0644-save", saved_0644, ["save", *BYBIT, "--api-key", "-", "--api-secret", "-"], STDIN_BOTH),
    ("corrupt-show", saved_corrupt, ["show", *BYBIT], ""),
    ("corrupt-delete", saved_corrupt, ["delete", *BYBIT, "--yes"], ""),
    ("aws-down-save", aws_down, ["save", *BYBIT, "--api-key", "-", "--api-secret", "-"], STDIN_BOTH),
    ("aws-down-show", aws_down, ["show", *BYBIT], ""),
    ("aws-down-list", aws_down, ["list"], ""),
]


def run(tmp_path: Path, setup: Setup, args: list[str], stdin: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, **setup(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "mmexec", *args],
        input=stdin.encode(),
        capture_output=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,  # no controlling terminal: hidden prompts read stdin
        timeout=60,
        check=False,
    )


def allowed_files(tmp_path: Path) -> list[Path]:
    return [store_path(tmp_path)]  # the store itself holds the values by design


def run_here(  # type: ignore[no-untyped-def]
    cli,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    setup: Setup,
    args: list[str],
    stdin: str,
) -> tuple[int, str, str]:
    for key, value in setup(tmp_path).items():
        monkeypatch.setenv(key, value)
    if name in TERMINAL:
        monkeypatch.setattr("mmexec.cli.secrets._stdin_is_terminal", lambda: True)
    result = cli(*args, input=stdin)
    fd = capfd.readouterr()
    return result.exit_code, result.stdout + fd.out, result.stderr + fd.err


@pytest.mark.parametrize(("name", "setup", "args", "stdin"), SUCCEEDING, ids=[c[0] for c in SUCCEEDING])
def test_succeeding_commands_print_only_masked_values(  # type: ignore[no-untyped-def]
    cli, monkeypatch, capfd, tmp_path: Path, name: str, setup: Setup, args: list[str], stdin: str
) -> None:
    code, out, err = run_here(cli, monkeypatch, capfd, tmp_path, name, setup, ["secrets", *args], stdin)
    assert code == 0, err
    assert "***" in out or name.startswith("delete")
    assert_not_leaked(out, err, root=tmp_path, allow=allowed_files(tmp_path))


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize(("name", "setup", "args", "stdin"), FAILING, ids=[c[0] for c in FAILING])
def test_failing_commands_exit_2_without_leaking(  # type: ignore[no-untyped-def]
    cli, monkeypatch, capfd, tmp_path: Path, name: str, setup: Setup, args: list[str], stdin: str, debug: bool
) -> None:
    argv = [*(["--debug"] if debug else []), "secrets", *args]
    code, out, err = run_here(cli, monkeypatch, capfd, tmp_path, name, setup, argv, stdin)
    assert code == 2, (out, err)
    assert "error: " in err
    assert out.strip() == ""  # (CliRunner echoes a hidden prompt's newline to stdout)
    assert_not_leaked(out, err, root=tmp_path, allow=allowed_files(tmp_path))


IN_A_PROCESS = [
    "save-prompts-no-terminal",
    "show-json",
    "list-json-env",
    "0644-show",
    "corrupt-show",
    "extra-argument",
    "aws-down-save",
]


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_in_a_real_process_too(tmp_path: Path, name: str) -> None:
    cases = {c[0]: (c, 0) for c in SUCCEEDING} | {c[0]: (c, 2) for c in FAILING}
    (_, setup, args, stdin), expected = cases[name]
    proc = run(tmp_path, setup, [*(["--debug"] if expected else []), "secrets", *args], stdin)
    assert proc.returncode == expected, proc.stderr.decode()
    assert_not_leaked(proc.stdout, proc.stderr, root=tmp_path, allow=allowed_files(tmp_path))


def test_no_temp_or_lock_file_holds_a_secret_after_saves(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for api_env in ("dev", "shadow", "soak", "prod"):
        args = ["--exchange", "bybit", "--env", api_env, "--api-key", "-", "--api-secret", "-"]
        result = cli("secrets", "save", *args, input=STDIN_BOTH)
        assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in store_path(tmp_path).parent.iterdir())
    assert names == ["secrets.json", "secrets.json.lock"]
    assert store_path(tmp_path).with_name("secrets.json.lock").read_bytes() == b""
    assert_not_leaked(root=tmp_path, allow=allowed_files(tmp_path))


def test_bybit_dry_run_never_prints_the_credentials(tmp_path: Path) -> None:
    pytest.importorskip("mmexec.exchanges.bybit.client")
    proc = run(tmp_path, env_vars, ["bybit-dryrun", "--iterations", "5"], "")
    assert proc.returncode == 0, proc.stderr.decode()
    assert_not_leaked(proc.stdout, proc.stderr, root=tmp_path)


def test_bybit_dry_run_reads_credentials_saved_with_secrets_save(tmp_path: Path) -> None:
    pytest.importorskip("mmexec.exchanges.bybit.client")
    save = ["secrets", "save", "--exchange", "bybit", "--env", "soak", "--api-key", "-", "--api-secret", "-"]
    assert run(tmp_path, nothing, save, STDIN_BOTH).returncode == 0
    proc = run(tmp_path, nothing, ["bybit-dryrun", "--iterations", "5", "--api-env", "soak"], "")
    assert proc.returncode == 0, proc.stderr.decode()
    assert_not_leaked(proc.stdout, proc.stderr, root=tmp_path, allow=allowed_files(tmp_path))
    missing = run(tmp_path, nothing, ["bybit-dryrun", "--iterations", "5", "--api-env", "prod"], "")
    assert missing.returncode == 2
    assert b"mmexec secrets save --exchange bybit --env prod" in missing.stderr
