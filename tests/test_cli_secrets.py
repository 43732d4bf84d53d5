"""``mmexec secrets save|show|list|delete``: prompts, stdin, masked output, JSON, errors (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from secrets_support import KEY, SECRET, assert_not_leaked

from mmexec.canonical import dumps
from mmexec.secrets.provider import SecretProvider

SAVE = ("secrets", "save", "--exchange", "bybit", "--env", "shadow")
# What save/show --json print for KEY/SECRET saved as bybit/shadow in the file backend (plus "source").
MASKED = {
    "api_env": "shadow",
    "api_key": "AKm...***",
    "api_secret": "***",
    "backend": "file",
    "exchange": "bybit",
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "mmexec" / "secrets.json"


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand in an operator's terminal on stdin (CliRunner's stdin is never one)."""
    monkeypatch.setattr("mmexec.cli.secrets._stdin_is_terminal", lambda: True)


def stored(exchange: str = "bybit", api_env: str = "shadow") -> tuple[str, str]:
    creds = SecretProvider(backend="file", env_override=False).get_credentials(exchange, api_env)
    return creds.api_key, creds.reveal_secret()


def test_save_with_flags_confirms_masked_and_warns_about_the_command_line(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(*SAVE, "--api-key", KEY, "--api-secret", SECRET)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "action      saved",
        "backend     file",
        "exchange    bybit",
        "api_env     shadow",
        "api_key     AKm...***",
        "api_secret  ***",
        f"source      file {store}",
    ]
    assert "warning: --api-secret on the command line" in result.stderr
    assert stored() == (KEY, SECRET)
    assert_not_leaked(result.stdout, result.stderr)


@pytest.mark.usefixtures("terminal")
def test_save_prompts_with_hidden_input_for_what_is_missing(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(*SAVE, input=f"{KEY}\n{SECRET}\n")
    assert result.exit_code == 0, result.stderr
    assert "API key for bybit/shadow (input hidden):" in result.stderr
    assert "API secret for bybit/shadow (input hidden):" in result.stderr
    assert "warning" not in result.stderr
    assert stored() == (KEY, SECRET)
    assert_not_leaked(result.stdout, result.stderr)


@pytest.mark.usefixtures("terminal")
def test_save_prompts_only_for_the_secret_when_the_key_is_given(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(*SAVE, "--api-key", KEY, input=f"{SECRET}\n")
    assert result.exit_code == 0, result.stderr
    assert "API key for" not in result.stderr
    assert "API secret for bybit/shadow" in result.stderr
    assert stored() == (KEY, SECRET)


def test_save_reads_dash_values_from_stdin(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=f"{SECRET}\r\n")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no prompt, no warning
    assert stored() == (KEY, SECRET)
    both = cli(*SAVE, "--api-key", "-", "--api-secret", "-", input=f"other_key\n{SECRET}")
    assert both.exit_code == 0, both.stderr
    assert stored() == ("other_key", SECRET)


def test_save_json_is_canonical_and_masked(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(*SAVE, "--json", "--api-key", "-", "--api-secret", "-", input=f"{KEY}\n{SECRET}\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == dumps({**MASKED, "action": "saved", "source": f"file {store}"})


@pytest.mark.usefixtures("terminal")
def test_prompt_input_ending_is_a_clear_error(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(*SAVE, input="")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "error: no api key given (input ended) (prompt)"


def _read_until(fd: int, needle: bytes, seen: bytearray, deadline_s: float = 60.0) -> None:
    """Read ``fd`` into ``seen`` until ``needle`` occurs in it (bounded by a deadline, no sleeping)."""
    import select
    import time

    deadline = time.monotonic() + deadline_s
    while needle not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"{needle!r} never appeared: {bytes(seen)!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError(f"stream ended before {needle!r}: {bytes(seen)!r}")
        seen += chunk


def _drain(fd: int) -> bytes:
    import select

    data = b""
    while select.select([fd], [], [], 0)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal behaviour checked on Linux")
def test_at_a_real_terminal_both_values_are_prompted_for_without_echo(tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmexec", *SAVE, "--json"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(slave)
    assert proc.stderr is not None and proc.stdout is not None
    try:
        seen = bytearray()
        # The prompt's last space is written once echo is off, so typing after it is never flushed or echoed.
        _read_until(proc.stderr.fileno(), b"API key for bybit/shadow (input hidden): ", seen)
        os.write(master, f"{KEY}\n".encode())
        _read_until(proc.stderr.fileno(), b"API secret for bybit/shadow (input hidden): ", seen)
        os.write(master, f"{SECRET}\n".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    echoed = _drain(master)
    os.close(master)
    stderr = bytes(seen) + err
    assert proc.returncode == 0, stderr.decode()
    assert json.loads(out)["api_secret"] == "***"
    assert b"GetPassWarning" not in stderr and b"Warning" not in stderr
    assert stored() == (KEY, SECRET)
    assert_not_leaked(out, stderr, echoed)


@pytest.mark.parametrize(
    ("flags", "flag"), [((), "--api-key"), (("--api-key", KEY), "--api-secret")], ids=["key", "secret"]
)
def test_without_a_terminal_a_missing_value_is_refused_pointing_to_dash(
    tmp_path: Path, flags: tuple[str, ...], flag: str
) -> None:
    """A real process without a terminal (new session): no getpass fallback, no GetPassWarning, exit 2."""
    proc = subprocess.run(
        [sys.executable, "-m", "mmexec", *SAVE, *flags, "--json"],
        input=f"{KEY}\n{SECRET}\n".encode(),
        capture_output=True,
        start_new_session=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    what = flag.removeprefix("--").replace("-", " ")
    assert proc.stderr.decode() == (
        f"error: stdin is not a terminal, so the {what} cannot be asked for with hidden input: "
        f"pass {flag} - to read it from stdin (flag {flag} not given)\n"
    )
    assert not (tmp_path / "xdg" / "mmexec" / "secrets.json").exists()
    assert_not_leaked(proc.stdout, proc.stderr, root=tmp_path)


def test_save_notes_when_env_vars_take_precedence(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BYBIT_API_KEY", "env_key_value")
    monkeypatch.setenv("BYBIT_API_SECRET", "env_secret_value")
    result = cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    assert result.exit_code == 0, result.stderr
    assert "note: BYBIT_API_KEY and BYBIT_API_SECRET are set and take precedence" in result.stderr
    assert_not_leaked(result.stdout, result.stderr, needles=(KEY, SECRET, "env_key_value", "env_secret_value"))


def test_show_prints_masked_values_and_their_source(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    result = cli("secrets", "show", "--exchange", "bybit", "--env", "shadow")
    assert result.exit_code == 0, result.stderr
    assert "api_key     AKm...***" in result.stdout
    assert f"source      file {store} [bybit/shadow]" in result.stdout
    as_json = cli("secrets", "show", "--exchange", "bybit", "--env", "shadow", "--json")
    assert as_json.stdout_bytes == dumps({**MASKED, "source": f"file {store} [bybit/shadow]"})
    assert_not_leaked(result.stdout, result.stderr, as_json.stdout, as_json.stderr)


def test_show_follows_the_lookup_order(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    monkeypatch.setenv("BYBIT_API_KEY", "test_key")
    monkeypatch.setenv("BYBIT_API_SECRET", "test_secret")
    result = cli("secrets", "show", "--exchange", "bybit", "--env", "shadow", "--json")
    shown = json.loads(result.stdout)
    assert (shown["api_key"], shown["source"]) == ("tes...***", "env BYBIT_API_KEY, BYBIT_API_SECRET")


def test_show_missing_is_exit_2_naming_the_fix(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("secrets", "show", "--exchange", "bybit", "--env", "dev")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: no API credentials for bybit/dev: set BYBIT_API_KEY and BYBIT_API_SECRET")
    assert "`mmexec secrets save --exchange bybit --env dev --backend file`" in result.stderr


def test_list_shows_entries_and_env_overrides_masked(cli, monkeypatch, store: Path) -> None:  # type: ignore[no-untyped-def]
    empty = cli("secrets", "list")
    assert empty.exit_code == 0
    assert empty.stdout == f"no credentials stored (file {store})\n"
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    cli(*SAVE[:-1], "dev", "--api-key", "devkey1", "--api-secret", "-", input="devsecret1")
    monkeypatch.setenv("BYBIT_API_KEY", "test_key")
    monkeypatch.setenv("BYBIT_API_SECRET", "test_secret")
    table = cli("secrets", "list")
    assert table.exit_code == 0, table.stderr
    lines = [line.split() for line in table.stdout.splitlines()]
    assert lines[0] == ["EXCHANGE", "ENV", "API_KEY", "API_SECRET", "SOURCE"]
    assert [row[:4] for row in lines[1:]] == [
        ["bybit", "dev", "dev...***", "***"],
        ["bybit", "shadow", "AKm...***", "***"],
        ["bybit", "*", "tes...***", "***"],
    ]
    listed = json.loads(cli("secrets", "list", "--json").stdout)
    assert listed["backend"] == "file"
    assert listed["location"] == f"file {store}"
    assert [(e["api_env"], e["api_key"]) for e in listed["entries"]] == [("dev", "dev...***"), ("shadow", "AKm...***")]
    assert listed["env_overrides"] == [
        {
            "api_env": "*",
            "api_key": "tes...***",
            "api_secret": "***",
            "exchange": "bybit",
            "source": "env BYBIT_API_KEY, BYBIT_API_SECRET",
        }
    ]
    assert_not_leaked(table.stdout, needles=(KEY, SECRET, "devkey1", "devsecret1", "test_key", "test_secret"))


@pytest.mark.usefixtures("terminal")
def test_delete_asks_unless_yes_and_exit_1_when_nothing_was_there(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    declined = cli("secrets", "delete", "--exchange", "bybit", "--env", "shadow", input="n\n")
    assert declined.exit_code == 1
    assert "Delete the credentials of bybit/shadow" in declined.stderr
    assert stored() == (KEY, SECRET)
    confirmed = cli("secrets", "delete", "--exchange", "bybit", "--env", "shadow", input="y\n")
    assert confirmed.exit_code == 0, confirmed.stderr
    assert confirmed.stdout == f"deleted bybit/shadow from file {store}\n"
    again = cli("secrets", "delete", "--exchange", "bybit", "--env", "shadow", "--yes", "--json")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["action"] == "not_found"
    assert json.loads(store.read_text())["entries"] == {}


def test_delete_without_yes_and_without_a_terminal_is_refused(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    result = cli("secrets", "delete", "--exchange", "bybit", "--env", "shadow", input="y\n")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: refusing to delete without confirmation: stdin is not a terminal to ask on; pass --yes to delete "
        "(flag --yes not given)\n"
    )
    assert stored() == (KEY, SECRET)


def test_the_masked_secret_shows_none_of_its_characters(cli) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", "test_key", "--api-secret", "-", input="supersecret")
    for command in ("show", "list"):
        args = ("--exchange", "bybit", "--env", "shadow") if command == "show" else ()
        result = cli("secrets", command, *args, "--json")
        assert result.exit_code == 0, result.stderr
        assert "sup" not in result.stdout
        record = json.loads(result.stdout)
        record = record["entries"][0] if command == "list" else record
        assert (record["api_key"], record["api_secret"]) == ("tes...***", "***")


@pytest.mark.parametrize("where", ["/", "directory"])
def test_a_file_flag_naming_a_directory_is_exit_2_and_leaves_nothing(cli, tmp_path: Path, where: str) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "dir"
    target.mkdir(mode=0o700)
    path = "/" if where == "/" else str(target)
    result = cli(*SAVE, "--api-key", KEY, "--api-secret", "-", "--file", path, input=SECRET)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: the secrets ")
    assert "internal error" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir"]  # no dir.lock
    assert list(target.iterdir()) == []


def test_a_secrets_file_with_nan_is_exit_2_naming_the_file(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    store.write_text(store.read_text().replace('"version":1', '"version":1,"x":NaN'))
    result = cli(*SAVE, "--api-key", "k1234", "--api-secret", "-", input="s1234")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: the secrets file is not valid JSON: NaN and Infinity are not JSON numbers (file {store})\n"
    )


def test_options_come_from_flags_env_and_toml(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mmexec.toml").write_text(f'[secrets]\nfile = "{tmp_path / "from-toml.json"}"\n')
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    assert (tmp_path / "from-toml.json").exists()
    monkeypatch.setenv("MMEXEC_SECRETS__FILE", str(tmp_path / "from-env.json"))
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    assert (tmp_path / "from-env.json").exists()
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", "--file", str(tmp_path / "from-flag.json"), input=SECRET)
    assert (tmp_path / "from-flag.json").exists()
    other = tmp_path / "other.toml"
    other.write_text(f'[secrets]\nfile = "{tmp_path / "from-config-flag.json"}"\n')
    monkeypatch.delenv("MMEXEC_SECRETS__FILE")
    result = cli("secrets", "list", "--config", str(other))
    assert f"file {tmp_path / 'from-config-flag.json'}" in result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("--exchange", "binance", "--env", "dev"),
            None,
            "error: unknown exchange 'binance' (expected one of: bybit) (flag --exchange)",
        ),
        (
            ("--exchange", "bybit", "--env", "live"),
            None,
            "error: unknown api env 'live' (expected one of: dev, shadow, soak, prod) (flag --env)",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--api-key", "", "--api-secret", "-"),
            SECRET,
            "error: api key is empty (flag --api-key)",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--api-key", KEY, "--api-secret", "-"),
            "\n",
            "error: api secret is empty (stdin (--api-secret -))",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--api-key", KEY, "--api-secret", "-"),
            "",
            "error: no api secret on stdin (input ended) (flag --api-secret -)",
        ),
        (
            ("--exchange", "bybit", "--env", "dev"),
            "",
            "error: stdin is not a terminal, so the api key cannot be asked for with hidden input: pass --api-key -",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--api-key", KEY, "--api-secret", f"{SECRET} x"),
            None,
            "error: api secret contains whitespace or control characters (value not shown) (flag --api-secret)",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--api-key", KEY, "--api-secret", "-", SECRET),
            SECRET,
            "error: unexpected extra argument(s): 1 given (not shown: they may be secrets) (command line)",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--backend", "memory"),
            None,
            "error: invalid backend 'memory': Input should be 'file', 'aws' or 'env' (flag --backend)",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--backend", "env"),
            None,
            "error: the env backend is read-only: set BYBIT_API_KEY and BYBIT_API_SECRET in the environment",
        ),
        (
            ("--exchange", "bybit", "--env", "dev", "--config", "missing.toml"),
            None,
            "error: config file 'missing.toml' does not exist (--config)",
        ),
    ],
)
def test_bad_input_is_a_clear_message_and_exit_2(cli, args, stdin, message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("secrets", "save", *args, input=stdin)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.splitlines()[-1].startswith(message)
    assert result.stdout.strip() == ""  # (CliRunner echoes a hidden prompt's newline to stdout)
    assert "Traceback" not in result.stderr
    assert SecretProvider(backend="file").list() == []
    assert_not_leaked(result.stdout, result.stderr)


def test_bad_backend_from_the_environment_names_its_origin(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMEXEC_SECRETS__BACKEND", "vault")
    result = cli("secrets", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid backend 'vault'")
    assert "(env MMEXEC_SECRETS__BACKEND)" in result.stderr


def test_a_0644_secrets_file_is_refused_by_every_command(cli, store: Path) -> None:  # type: ignore[no-untyped-def]
    cli(*SAVE, "--api-key", KEY, "--api-secret", "-", input=SECRET)
    os.chmod(store, 0o644)
    for args in (
        ("show", "--exchange", "bybit", "--env", "shadow"),
        ("list",),
        ("delete", "--exchange", "bybit", "--env", "shadow", "--yes"),
    ):
        result = cli("secrets", *args)
        assert result.exit_code == 2
        assert "refusing to read the secrets file: group or others can access it (mode 0644)" in result.stderr
        assert f"run: chmod 600 {store} (file {store})" in result.stderr
        assert_not_leaked(result.stdout, result.stderr)
    result = cli(*SAVE, "--api-key", "k1234", "--api-secret", "-", input="s1234")
    assert result.exit_code == 2
    os.chmod(store, 0o600)
    assert stored() == (KEY, SECRET)


def test_missing_options_are_usage_errors(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("secrets", "show", "--exchange", "bybit")
    assert result.exit_code == 2
    assert "--env" in result.stderr


def test_group_help_lists_the_commands(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("secrets", "--help")
    assert result.exit_code == 0
    for name in ("save", "show", "list", "delete"):
        assert f"  {name}" in result.stdout


def test_the_cli_module_imports_only_typer() -> None:
    code = (
        "import sys, mmexec.cli.secrets; "
        "heavy = [m for m in ('pydantic', 'pydantic_settings', 'orjson', 'boto3', 'botocore', 'rich') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
