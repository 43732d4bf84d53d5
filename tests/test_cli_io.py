"""Output targets, signals, closed pipes, hostile input and reading reports, through the CLI (issue #9)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mmexec.canonical import dumps

RUN = ("shadow", "--iterations", "30", "--symbols", "BTCUSDT,ETHUSDT")
ENV = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}


def mmexec(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mmexec", *args], cwd=cwd, env=ENV, input=stdin,
                          capture_output=True, timeout=120, check=False)


def write(path: Path, obj: Any) -> str:
    path.write_bytes(dumps(obj))
    return str(path)


def tmp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


REPORT: dict[str, Any] = {
    "pnl": {
        "by_symbol": {
            "BTCUSDT": {"avg_entry_price": Decimal("49993.7278911567"), "fees": Decimal("1.59943"),
                        "gross": Decimal("5.9"), "mark_price": Decimal("49985.0"), "net": Decimal("4.30057"),
                        "position": Decimal("-0.12"), "realized": Decimal("4.8526530612"),
                        "rebates": Decimal("0.0"), "unrealized": Decimal("1.0473469388")},
            "ETHUSDT": {"avg_entry_price": Decimal("2999.45"), "fees": Decimal("2.1777426"), "gross": Decimal("0.198"),
                        "mark_price": Decimal("2999.1"), "net": Decimal("-1.9797426"), "position": Decimal("1.98"),
                        "realized": Decimal("0.891"), "rebates": Decimal("0.0"), "unrealized": Decimal("-0.693")},
        },
        "method": "average_cost",
        "total": {"fees": Decimal("3.7771726"), "net": Decimal("2.3208274"), "realized": Decimal("5.7436530612"),
                  "rebates": Decimal("0.0"), "unrealized": Decimal("0.3543469388")},
    },
    "fees": {
        "by_symbol": {
            sym: {"fills": 16, "maker_fees": Decimal("1.59943"), "net_cost": Decimal("1.59943"),
                  "schedule": {"maker_bps": Decimal("1.0"), "name": "VIP0"}, "schedule_source": "fallback"}
            for sym in ("BTCUSDT", "ETHUSDT")
        },
        "tier": None,
    },
}


def rows(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")[1:-1]] for line in stdout.splitlines() if line.startswith("│")]


# ------------------------------------------------------------------------------------------ report show


def test_show_starts_with_a_per_symbol_summary(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "show", write(tmp_path / "r.json", REPORT))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "summary (pnl per symbol)"
    assert [c.strip() for c in lines[2].split("┃")[1:-1]] == [
        "symbol", "position", "avg entry", "mark", "realized", "unrealized", "fees", "rebates", "net"]
    table = rows(result.stdout)
    assert ["BTCUSDT", "-0.12", "49993.7278911567", "49985.0", "4.8526530612", "1.0473469388", "1.59943", "0.0",
            "4.30057"] in table
    assert ["TOTAL", "", "", "", "5.7436530612", "0.3543469388", "3.7771726", "0.0", "2.3208274"] in table


def test_show_fees_per_symbol_not_flattened(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "show", write(tmp_path / "r.json", REPORT), "--section", "fees")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "summary" not in out  # --section shows only what was asked for
    assert "fees.by_symbol" in out and "2 symbols (table fees.by_symbol)" in out
    assert "by_symbol.BTCUSDT.maker_fees" not in out  # no more one row per symbol and field
    table = rows(out)
    header = next([c.strip() for c in line.split("┃")[1:-1]] for line in out.splitlines() if "┃ symbol" in line)
    assert header == ["symbol", "fills", "maker_fees", "net_cost", "schedule.maker_bps", "schedule.name",
                      "schedule_source"]
    assert ["ETHUSDT", "16", "1.59943", "1.59943", "1.0", "VIP0", "fallback"] in table


def test_show_and_diff_read_stdin(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = dumps(REPORT)
    shown = cli("report", "show", "-", input=data)
    assert shown.exit_code == 0, shown.stderr
    assert "summary (pnl per symbol)" in shown.stdout
    other = write(tmp_path / "b.json", {**REPORT, "pnl": {}})
    diff = cli("report", "diff", "-", other, "--json", input=data)
    assert diff.exit_code == 1, diff.stderr
    both = cli("report", "diff", "-", "-", input=data)
    assert (both.exit_code, both.stderr) == (2, "error: only one of A and B can be - (stdin) (arguments A and B)\n")
    bad = cli("report", "show", "-", input=b"[1]")
    assert bad.stderr == "error: report must be a JSON object at the top level, not an array (<stdin>)\n"


HACK = "\x1b[2J\x1b[31mHACKED\x9b\u202e"


def test_control_characters_are_escaped_in_every_table(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = {"risk": {"last_freeze_reason": HACK, HACK: 1, "items": [{HACK: HACK}]},
              "pnl": {"by_symbol": {HACK: {"net": 1}}}}
    a = write(tmp_path / "a.json", report)
    b = write(tmp_path / "b.json", {"risk": {"last_freeze_reason": "ok"}})
    for result in (cli("report", "show", a), cli("report", "diff", a, b), cli("report", "diff", b, a)):
        assert result.exit_code in (0, 1), result.stderr
        assert "\x1b" not in result.stdout and "\x9b" not in result.stdout and "\u202e" not in result.stdout
    shown = cli("report", "show", a).stdout
    assert "\\x1b[2J\\x1b[31mHACKED\\x9b\\u202e" in shown


def test_diff_never_folds_the_path_column_off_a_terminal(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    long_key = "fees.by_symbol.BTCUSDT.fill" + "s" * 90
    a = write(tmp_path / "a.json", {"fees": {"by_symbol": {"BTCUSDT": {long_key: 1, "x": "v" * 300}}}})
    b = write(tmp_path / "b.json", {"fees": {"by_symbol": {"BTCUSDT": {long_key: 2, "x": "w" * 300}}}})
    for env in ({}, {"COLUMNS": "80"}):  # off a terminal COLUMNS does not fold anything
        result = cli("report", "diff", a, b, env=env)
        assert result.exit_code == 1
        paths = [r[0] for r in rows(result.stdout) if r[0]]
        assert f'fees.by_symbol.BTCUSDT["{long_key}"]' in paths
        assert "fees.by_symbol.BTCUSDT.x" in paths


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a":' * 900 + b"1" + b"}" * 900, "report is nested more than 128 levels deep"),
        (b"[" * 900 + b"]" * 900, "report is nested more than 128 levels deep"),
        (b'{"a": 1e999999999}', "report has a number out of range: 1e999999999"),
        (b'{"a": 1e9999999999999999999}', "report has a number out of range: 1e9999999999999999999"),
        (b'{"a": ' + b"7" * 5000 + b"}", "report has a number out of range: 77777777777777777777… (5000 characters)"),
    ],
)
def test_hostile_reports_exit_2_with_one_line(cli, tmp_path: Path, content: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = write(tmp_path / "good.json", {"a": 1})
    for args in (("diff", good, str(bad)), ("diff", str(bad), good), ("show", str(bad))):
        result = cli("report", *args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith(f"error: {message}") and result.stderr.endswith(f"({bad})\n")
        assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_oversized_input_and_dev_zero(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = write(tmp_path / "big.json", {"x": "y" * 2_000_000})
    small = cli("report", "show", big, "--max-input-size", "1M")
    assert (small.exit_code, small.stderr) == (
        2, f"error: report file is larger than 1 MiB (raise the cap with --max-input-size) ({big})\n")
    assert cli("report", "show", big, "--max-input-size", "3M").exit_code == 0
    zero = cli("report", "diff", "/dev/zero", big)
    assert zero.exit_code == 2 and "larger than 64 MiB" in zero.stderr
    bad_flag = cli("report", "show", big, "--max-input-size", "lots")
    assert bad_flag.exit_code == 2 and "(flag --max-input-size)" in bad_flag.stderr


FILL = '{"symbol":"BTCUSDT","side":"BUY","qty":"1","price":"2","liquidity":"maker"}'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[" * 30_000 + "]" * 30_000, "line 2: nested more than 128 levels deep"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "line 2: longer than 65536 bytes"),
        (FILL.replace('"2"', "1e999999999"), "line 2: a number out of range: 1e999999999"),
        (FILL.replace('"2"', "9" * 5000), "line 2: a number out of range: 99999999999999999999…"),
        ("[" * 70_000, "line 2: longer than 65536 bytes"),
    ],
)
def test_hostile_fills_exit_2_naming_file_and_line(cli, tmp_path: Path, line: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.jsonl"
    path.write_text(FILL + "\n" + line + "\n")
    result = cli("fees", "--fills", str(path))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"error: {message}") and result.stderr.endswith(f"(fills file {path})\n")
    assert result.stderr.count("\n") == 1


def test_fills_from_dev_zero_fail_fast(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("fees", "--fills", "/dev/zero")
    assert (result.exit_code, result.stderr) == (2, "error: line 1: longer than 65536 bytes (fills file /dev/zero)\n")


# ------------------------------------------------------------------------------------------ fees output


def test_fees_json_is_exact(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.jsonl"
    path.write_text(FILL.replace('"qty":"1"', '"qty":"1234.56789012"').replace('"2"', '"17713.99999999"') + "\n")
    result = cli("fees", "--fills", str(path), "--tier", "VIP0", "--json")
    assert result.exit_code == 0, result.stderr
    notional = Decimal("1234.56789012") * Decimal("17713.99999999")
    assert f'"maker_notional":{notional}'.encode() in result.stdout_bytes  # every digit, no float round trip
    assert f'"maker_fees":{notional / 10000}'.encode() in result.stdout_bytes


def test_fees_table_rows_are_capped(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.jsonl"
    path.write_text("".join(FILL.replace("BTCUSDT", f"S{i:04d}") + "\n" for i in range(250)))
    result = cli("fees", "--fills", str(path))
    assert result.exit_code == 0, result.stderr
    symbols = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("S0")]
    assert symbols == [f"S{i:04d}" for i in range(200)]
    assert "… and 50 more symbols (--limit 0 shows all, --json lists all)" in result.stdout
    assert "TOTAL" in result.stdout
    few = cli("fees", "--fills", str(path), "--limit", "3").stdout
    assert [line.split()[0] for line in few.splitlines() if line.startswith("S0")] == ["S0000", "S0001", "S0002"]
    everything = cli("fees", "--fills", str(path), "--limit", "0").stdout
    assert sum(line.startswith("S0") for line in everything.splitlines()) == 250


# ------------------------------------------------------------------------------------------ output targets


def test_out_directory_missing_fails_before_the_run(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "nonexistent" / "r.json"
    result = cli(*RUN, "--out", str(target))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: cannot write report file: No such file or directory ({target})\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_out_in_read_only_directory(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    result = cli(*RUN, "--out", str(locked / "r.json"))
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write report file: Permission denied ({locked / 'r.json'})\n"


def test_out_on_a_full_disk_is_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(*RUN, "--out", "/dev/full")
    assert (result.exit_code, result.stderr) == (
        2, "error: cannot write report file: No space left on device (/dev/full)\n")
    fills = cli(*RUN, "--fills-out", "/dev/full")
    assert fills.exit_code == 2 and "No space left on device (/dev/full)" in fills.stderr


def test_devices_are_never_replaced(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = os.stat("/dev/null").st_ino
    result = cli(*RUN, "--out", "/dev/null", "--fills-out", "/dev/null")
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.stat("/dev/null").st_ino == before


def test_out_and_fills_out_on_the_same_file_is_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "r.json")
    result = cli(*RUN, "--out", str(tmp_path / "r.json"), "--fills-out", str(link))
    assert result.exit_code == 2 and result.stderr.endswith("(flags --out, --fills-out)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json"]


def test_symlink_to_stdout_writes_the_report_there(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("/proc/self/fd/1")
    run = mmexec(*RUN, "--out", str(link), cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.startswith(b'{"config":') and link.is_symlink()


def test_report_and_fills_files_are_shareable(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = os.umask(0o022)
    try:
        existing = tmp_path / "old.json"
        existing.write_bytes(b"{}")
        existing.chmod(0o664)
        result = cli(*RUN, "--out", str(existing), "--fills-out", str(tmp_path / "f.jsonl"))
        assert result.exit_code == 0, result.stderr
    finally:
        os.umask(old)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o664
    assert stat.S_IMODE((tmp_path / "f.jsonl").stat().st_mode) == 0o644


# ------------------------------------------------------------------------------------------ signals, pipes

# A run whose engine sends the signal to its own process after writing one fill: deterministic, no sleeps.
SIGNALLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    # Ctrl-C as in a terminal: a job started in the background by a non-interactive shell (a CI script) inherits
    # SIGINT ignored, and Python then keeps ignoring it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import mmexec.cli.run_impl as run_impl
    real = run_impl.run_session

    def run_session(config, **kwargs):
        def listener(fill):
            for write in kwargs["fill_listeners"]:
                write(fill)
            os.kill(os.getpid(), {sig})
        return real(config, **{{**kwargs, "fill_listeners": [listener]}})

    run_impl.run_session = run_session
    from mmexec.cli import main
    sys.argv = ["mmexec", "shadow", "--iterations", "200", "--out", "r.json", "--fills-out", "f.jsonl"]
    main()
    """
)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_signals_leave_no_temp_files(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    run = subprocess.run([sys.executable, "-c", SIGNALLED_RUN.format(sig=int(sig))], cwd=tmp_path, env=ENV,
                         capture_output=True, timeout=120, check=False)
    assert run.returncode == code, run.stderr.decode()
    assert run.stderr.decode().count("\n") == 1 and "Traceback" not in run.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [("report", "show", "r.json"), ("config", "show"), RUN, ("fees", "--all"), ("report", "diff", "r.json", "e.json")],
    ids=lambda a: " ".join(a[:2]),
)
def test_closed_stdout_pipe_is_exit_0_quietly(tmp_path: Path, args: tuple[str, ...]) -> None:
    big = {**REPORT, "items": [{"i": i, "text": "x" * 50} for i in range(5000)]}
    write(tmp_path / "r.json", big)
    write(tmp_path / "e.json", {})
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte (like `| true`)
    run = subprocess.run([sys.executable, "-m", "mmexec", *args], cwd=tmp_path, env=ENV, stdout=write_end,
                         stderr=subprocess.PIPE, timeout=120, check=False)
    os.close(write_end)
    expected = 1 if args[:2] == ("report", "diff") else 0  # diff keeps its verdict
    assert (run.returncode, run.stderr.decode().replace("3 differences\n", "")) == (expected, "")


@pytest.mark.parametrize("args", [("report", "show", "r.json"), ("config", "show"), RUN, ("fees", "--all")],
                         ids=lambda a: " ".join(a[:2]))
def test_stdout_on_a_full_disk_is_exit_2_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    write(tmp_path / "r.json", REPORT)
    with open("/dev/full", "wb") as full:
        run = subprocess.run([sys.executable, "-m", "mmexec", *args], cwd=tmp_path, env=ENV, stdout=full,
                             stderr=subprocess.PIPE, timeout=120, check=False)
    assert (run.returncode, run.stderr) == (2, b"error: cannot write the output: No space left on device (stdout)\n")
