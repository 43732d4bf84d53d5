"""Independent audit of issue #9: the cases no other test covered, against the installed `mmexec` CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MMEXEC = Path(sys.executable).with_name("mmexec")
ENV = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}
RUN = ("shadow", "--iterations", "30", "--symbols", "BTCUSDT,ETHUSDT")

pytestmark = pytest.mark.skipif(not MMEXEC.exists(), reason="the mmexec console script is not installed")


def mmexec(*args: str, cwd: Path, stdin: bytes | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(MMEXEC), *args], cwd=cwd, env={**ENV, **(env or {})}, input=stdin,
                          capture_output=True, timeout=120, check=False)


def one_error_line(run: subprocess.CompletedProcess[bytes]) -> str:
    err = run.stderr.decode()
    assert run.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err


# ------------------------------------------------------------------ 7. unknown MMEXEC_<TABLE>__<KEY> variables

@pytest.mark.parametrize("args", [RUN, ("fees", "--tier", "VIP2"), ("config", "show")], ids=lambda a: a[0])
def test_an_unknown_table_in_an_env_variable_is_refused_like_in_toml(tmp_path: Path, args: tuple[str, ...]) -> None:
    run = mmexec(*args, cwd=tmp_path, env={"MMEXEC_SHADOWW__SEED": "1"})
    assert one_error_line(run) == (
        "error: unknown table 'shadoww' (expected one of [shadow], [bybit_dryrun], [fees], [secrets]); "
        "did you mean 'shadow'? (env MMEXEC_SHADOWW__SEED)\n")
    assert run.stdout == b""


def test_other_mmexec_variables_are_not_tables(tmp_path: Path) -> None:
    run = mmexec(*RUN, cwd=tmp_path, env={"MMEXEC_CONFIG": "", "MMEXEC_SECRETS_FILE": str(tmp_path / "s.json")})
    assert run.returncode == 0, run.stderr.decode()


# ------------------------------------------------------------------ 8. `-` in file arguments

def test_out_dash_is_stdout_and_creates_no_file(tmp_path: Path) -> None:
    dash = mmexec(*RUN, "--out", "-", cwd=tmp_path)
    plain = mmexec(*RUN, cwd=tmp_path)
    assert dash.returncode == 0 and dash.stdout == plain.stdout and dash.stdout.startswith(b'{"config":')
    assert list(tmp_path.iterdir()) == []


def test_fills_out_dash_writes_the_fills_to_stdout_beside_a_report_file(tmp_path: Path) -> None:
    run = mmexec(*RUN, "--out", "r.json", "--fills-out", "-", cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    fills = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert fills and all("fill_id" in f for f in fills)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
    assert json.loads((tmp_path / "r.json").read_text())["orders"]["fills"] == len(fills)


def test_fills_out_dash_with_the_report_on_stdout_is_refused(tmp_path: Path) -> None:
    run = mmexec(*RUN, "--fills-out", "-", cwd=tmp_path)
    assert one_error_line(run).endswith("(flags --out, --fills-out)\n")
    assert run.stdout == b"" and list(tmp_path.iterdir()) == []


def test_config_dash_reads_toml_from_stdin(tmp_path: Path) -> None:
    run = mmexec(*RUN, "--config", "-", cwd=tmp_path, stdin=b"[shadow]\nseed = 7\n")
    assert run.returncode == 0, run.stderr.decode()
    assert json.loads(run.stdout)["config"]["seed"] == 7
    bad = mmexec(*RUN, "--config", "-", cwd=tmp_path, stdin=b"[shadow]\nseed = true\n")
    assert one_error_line(bad) == (
        "error: invalid seed True: expected a number or text, not a boolean (file - [shadow])\n")


def test_config_dash_is_read_once_by_a_bybit_run(tmp_path: Path) -> None:
    """The run settings and the credentials both resolve the config file: both see stdin's tables."""
    env = {"BYBIT_API_KEY": "AKauditKey", "BYBIT_API_SECRET": "SKauditSecret"}
    run = mmexec("bybit-dryrun", "--iterations", "5", "--config", "-", cwd=tmp_path, env=env,
                 stdin=b'[bybit_dryrun]\nseed = 9\n[secrets]\nbackend = "nope"\n')
    assert one_error_line(run).endswith("(file - [secrets])\n")  # [secrets] came from the one read of stdin
    ok = mmexec("bybit-dryrun", "--iterations", "5", "--config", "-", cwd=tmp_path, env=env,
                stdin=b"[bybit_dryrun]\nseed = 9\n")
    assert ok.returncode == 0, ok.stderr.decode()
    assert json.loads(ok.stdout)["config"]["seed"] == 9
    assert b"SKauditSecret" not in ok.stdout + ok.stderr


# ------------------------------------------------------------------ 4. output targets through the CLI

def test_out_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    run = mmexec(*RUN, "--out", str(fifo), cwd=tmp_path)
    reader.join(timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    assert got and got[0] == mmexec(*RUN, cwd=tmp_path).stdout
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_out_to_a_socket_is_refused_before_the_run(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        run = mmexec(*RUN, "--out", "sock", cwd=tmp_path)
    assert one_error_line(run) == (
        "error: cannot write report file: the path is not a regular file, device or FIFO (sock)\n")


# ------------------------------------------------------------------ 3. a real full disk, real signals

def mount_tmpfs(directory: Path, options: str) -> Path:
    """A small tmpfs at ``directory`` (root only); the test is skipped where mounting is not permitted."""
    directory.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)], capture_output=True,
                             check=False)
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    return directory


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs."""
    disk = mount_tmpfs(tmp_path / "disk", "size=64k")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_is_exit_2_and_leaves_no_temp_file(full_disk: Path) -> None:
    """A fills file larger than the disk: the write fails mid-run, the temp file goes, the old file stays."""
    old = full_disk / "f.jsonl"
    old.write_bytes(b"old\n")
    run = mmexec("shadow", "--iterations", "3000", "--edge-threshold", "-100", "--fills-out", str(old),
                 "--out", str(full_disk / "r.json"), cwd=full_disk.parent)
    assert one_error_line(run) == f"error: cannot write fills file: No space left on device ({old})\n"
    assert sorted(p.name for p in full_disk.iterdir()) == ["f.jsonl"] and old.read_bytes() == b"old\n"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)],
                         ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_a_running_cli_removes_its_temp_files(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    """A long run with --fills-out, signalled from outside once it is under way (its first progress line)."""
    proc = subprocess.Popen(
        [str(MMEXEC), "shadow", "--iterations", "200000", "--edge-threshold", "-100", "--progress",
         "--fills-out", "f.jsonl", "--out", "r.json"],
        cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    first = proc.stderr.readline().decode()  # blocks until the run is under way; no sleep
    assert first.startswith("progress: "), first
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the outputs are being written
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    assert err.decode() == f"error: terminated by {sig.name}\n"
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 1. the repository reads as self-contained

# Written in pieces so this file does not match itself.
CITATIONS = re.compile("|".join([r"[Tt]he seed's", "seed-" + "compatible", "as the seed " + "documents",
                                 "CONVENTIONS" + r"\.md", "EXECUTION_ENGINE" + r"\.md", r"\bP0\.\d"]))


def test_docs_and_comments_cite_the_readme_not_development_files() -> None:
    files = [ROOT / name for name in ("README.md", "CHANGELOG.md", "pyproject.toml", "noxfile.py")]
    for top in ("mmexec", "tests", "examples", "benchmarks", ".ci", "docs"):
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".toml", ""}]
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in files if "__pycache__" not in path.parts
                 for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
                 if CITATIONS.search(line)]
    assert offenders == []


# ------------------------------------------------------------------ 7. --show-config origins

def test_show_config_names_an_env_origin_once(tmp_path: Path) -> None:
    run = mmexec("shadow", "--show-config", "--max-inv", "5000", cwd=tmp_path,
                 env={"MMEXEC_SHADOW__ITERATIONS": "9"})
    assert run.returncode == 0, run.stderr.decode()
    lines = run.stdout.decode().splitlines()
    assert "iterations = 9  # env MMEXEC_SHADOW__ITERATIONS" in lines
    assert "max_inv = 5000  # flag --max-inv; env MMEXEC_SHADOW__MAX_INV" in lines
    assert "seed = 42  # default; env MMEXEC_SHADOW__SEED" in lines


# ------------------------------------------------------------------ 3. --out in a read-only directory, as root too

def test_out_on_a_read_only_mount_fails_before_the_run_even_for_root(tmp_path: Path) -> None:
    """Root writes into 0555 directories (test_cli_io skips that case under root); a read-only mount stops it."""
    ro = mount_tmpfs(tmp_path / "ro", "ro,size=64k")
    try:
        run = mmexec("shadow", "--iterations", "1000000000", "--out", str(ro / "r.json"), cwd=tmp_path)
        assert one_error_line(run) == f"error: cannot write report file: Read-only file system ({ro / 'r.json'})\n"
        assert run.stdout == b"" and list(ro.iterdir()) == []
    finally:
        subprocess.run(["umount", str(ro)], check=False)


# ------------------------------------------------------------------ 4. report show of a large report (under the cap)

def test_report_show_caps_the_rows_of_each_section(tmp_path: Path) -> None:
    """A 100,000-key section rendered in full took minutes and GBs (a 38 MB report: 237 s, 3.3 GB)."""
    (tmp_path / "r.json").write_text(json.dumps({"items": {f"k{i}": i for i in range(100_000)}}))
    run = mmexec("report", "show", "r.json", "--limit", "3", cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    rows = [line for line in run.stdout.decode().splitlines() if line.startswith("│")]
    assert [r.split("│")[1].strip() for r in rows] == ["k0", "k1", "k2", "…"]
    assert "… more rows (--limit 0 shows all)" in rows[-1]
    default = mmexec("report", "show", "r.json", cwd=tmp_path)
    assert default.stdout.decode().count("\n│ k") == 200
    (tmp_path / "small.json").write_text(json.dumps({"items": {f"k{i}": i for i in range(500)}}))
    everything = mmexec("report", "show", "small.json", "--limit", "0", cwd=tmp_path)
    assert everything.stdout.decode().count("\n│ k") == 500


def test_report_show_caps_the_columns_of_record_and_symbol_tables(tmp_path: Path) -> None:
    """One object with 200,000 fields became 200,000 columns (minutes of rendering)."""
    wide = {f"k{i}": i for i in range(200_000)}
    (tmp_path / "r.json").write_text(json.dumps({"pnl": {"by_symbol": {"BTCUSDT": wide}}, "x": [wide]}))
    run = mmexec("report", "show", "r.json", "--limit", "3", cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    out = run.stdout.decode()
    headers = [line for line in out.splitlines() if line.startswith("┃")]
    assert [h.count("┃") for h in headers] == [10, 5, 5]  # summary (9 columns), by_symbol and x: first 3 fields + key
    assert " ".join(out.split()).count("… and 199997 more fields (--limit 0 shows all)") == 2
