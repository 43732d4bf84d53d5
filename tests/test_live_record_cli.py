"""``mmexec record`` end to end: a real process against the loopback Bybit server (no internet)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bybit_ws_server import BybitWsServer, ServerThread

LIMIT_S = 30


def record(*args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMEXEC_", "BYBIT_"))}
    return subprocess.Popen([sys.executable, "-m", "mmexec", "record", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def data_of(path: Path) -> list[str]:
    return [line.split(" ", 1)[1] for line in gzip.decompress(path.read_bytes()).decode().splitlines()]


def test_record_runs_for_its_duration_through_a_forced_disconnect(tmp_path: Path) -> None:
    out = tmp_path / "capture.jsonl.gz"
    server = BybitWsServer(deltas=30)
    server.drop_after_next = 15
    with ServerThread(server):
        proc = record("--symbols", "XRPUSDT,ETHUSDT", "--ws-url", server.url, "--duration", "2s", "--out", str(out))
        stdout, stderr = proc.communicate(timeout=LIMIT_S)
    assert proc.returncode == 0, stderr
    assert data_of(out) == server.sent[0] + server.sent[1]
    summary = json.loads(stdout)
    assert summary["stopped_by"] == "duration"
    assert summary["lines"] == 15 + 2 * (1 + 30 + 6)
    assert (summary["feed"]["connects"], summary["feed"]["reconnects"], summary["feed"]["drops"]) == (2, 1, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["capture.jsonl.gz"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_cleanly_with_the_recording_complete(tmp_path: Path, sig: signal.Signals,
                                                            code: int) -> None:
    out = tmp_path / "capture.jsonl"
    with ServerThread(BybitWsServer(deltas=10)) as server:
        proc = record("--symbols", "XRPUSDT", "--ws-url", server.url, "--duration", "2h", "--out", str(out))
        deadline = time.monotonic() + LIMIT_S
        while sum(map(len, server.sent)) < 1 + 10 + 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the child's loopback I/O, not for time to pass
        part = tmp_path / "capture.jsonl.part"
        while not (part.exists() and part.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.01)  # the recorder flushes its first line at once
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=LIMIT_S)
    assert proc.returncode == code, stderr
    assert json.loads(stdout)["stopped_by"] == sig.name
    lines = out.read_text().splitlines()
    assert lines, "nothing recorded"
    assert [line.split(" ", 1)[1] for line in lines] == server.sent[0][: len(lines)]
    assert not (tmp_path / "capture.jsonl.part").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--duration", "soon"], "error: invalid duration 'soon'"),
    (["--symbols", "BTC-USDT"], "error: invalid symbol 'BTC-USDT'"),
    (["--ws-url", "https://stream.bybit.com"], "error: invalid WebSocket URL"),
    (["--out", "/nonexistent-dir/cap.gz"], "error: directory /nonexistent-dir does not exist (--out)"),
    (["--stale-after-ms", "0"], "error: must be positive, got 0 (--stale-after-ms)"),
])
def test_bad_input_is_one_line_exit_2_before_connecting(cli, tmp_path: Path, args: list[str],  # type: ignore[no-untyped-def]
                                                        message: str) -> None:
    base = {"--symbols": "BTCUSDT", "--duration": "1s", "--out": str(tmp_path / "c.gz"),
            "--ws-url": "ws://127.0.0.1:9"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = cli("record", *[item for pair in base.items() for item in pair])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_record_is_listed_without_importing_websockets() -> None:
    code = ("import sys; from mmexec.cli import main; sys.argv=['mmexec','--help']\n"
            "try: main()\nexcept SystemExit: pass\n"
            "assert 'websockets' not in sys.modules and 'mmexec.cli.record' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=LIMIT_S, check=False)
    assert done.returncode == 0, done.stderr
    assert "record" in done.stdout


def test_nothing_received_is_exit_1_with_the_empty_recording_kept(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the block ends
    out = tmp_path / "empty.jsonl"
    result = cli("record", "--symbols", "BTCUSDT", "--ws-url", f"ws://127.0.0.1:{port}", "--duration", "300ms",
                 "--out", str(out))
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["lines"] == 0 and summary["feed"]["connect_failures"] >= 1
    *warnings, last = result.stderr.splitlines()
    assert last.startswith(f"error: no market data received from ws://127.0.0.1:{port} in 300ms")
    assert all(json.loads(line)["event"] == "connect failed" for line in warnings)  # JSON log lines
    assert out.read_bytes() == b""
