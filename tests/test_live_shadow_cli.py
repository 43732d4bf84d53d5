"""``mmexec shadow --market bybit-live`` end to end: a real process against the loopback Bybit server, then
``--market replay --data <its recording>``, then ``mmexec report diff --ignore <the source fields>``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bybit_ws_server import BybitWsServer, ServerThread

LIMIT_S = 30
SOURCE_FIELDS = ("config.market", "market.kind", "market.live")  # README "Live market data"
COMMON = ["--symbols", "XRPUSDT,ETHUSDT", "--instrument", "ETHUSDT=0.0001/1", "--quote-interval-ms", "1"]


def mmexec(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMEXEC_", "BYBIT_"))}
    env["MM_FREEZE_UTC_ISO"] = "2026-01-01T00:00:00Z"
    return subprocess.Popen([sys.executable, "-m", "mmexec", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)


def done(*args: str) -> subprocess.CompletedProcess[str]:
    proc = mmexec(*args)
    stdout, stderr = proc.communicate(timeout=LIMIT_S)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def replay_and_diff(tmp_path: Path, recording: Path, live_report: Path, common: list[str] = COMMON) -> None:
    replayed = done("shadow", "--market", "replay", "--data", str(recording), *common,
                    "--out", str(tmp_path / "replay.json"))
    assert replayed.returncode == 0, replayed.stderr
    ignore = [item for field in SOURCE_FIELDS for item in ("--ignore", field)]
    diff = done("report", "diff", str(live_report), str(tmp_path / "replay.json"), *ignore)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    plain = done("report", "diff", str(live_report), str(tmp_path / "replay.json"))
    assert plain.returncode == 1  # ... and those fields are all that differs
    assert all(field in plain.stdout for field in SOURCE_FIELDS)


def test_a_live_session_through_a_forced_disconnect_replays_to_the_same_report(tmp_path: Path) -> None:
    server = BybitWsServer(deltas=60, now_ms=lambda: time.time_ns() // 1_000_000)
    server.drop_after_next = 30
    recording, report = tmp_path / "live.jsonl.gz", tmp_path / "live.json"
    with ServerThread(server):
        live = done("shadow", "--market", "bybit-live", "--ws-url", server.url, "--duration", "2s",
                    "--record", str(recording), "--out", str(report), *COMMON)
    assert live.returncode == 0, live.stderr
    market = json.loads(report.read_text())["market"]
    assert market["kind"] == "bybit-live"
    assert market["live"]["stopped_by"] == "duration"
    assert (market["live"]["feed"]["connects"], market["live"]["feed"]["reconnects"]) == (2, 1)
    assert market["files"][0]["lines"] == sum(map(len, server.sent))
    replay_and_diff(tmp_path, recording, report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.json", "live.jsonl.gz", "replay.json"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_session_with_its_report_and_recording(tmp_path: Path, sig: signal.Signals,
                                                                  code: int) -> None:
    recording, report = tmp_path / "live.jsonl", tmp_path / "live.json"
    common = ["--symbols", "XRPUSDT", "--quote-interval-ms", "1"]  # the first message starts the session
    with ServerThread(BybitWsServer(deltas=20)) as server:
        proc = mmexec("shadow", "--market", "bybit-live", "--ws-url", server.url, "--duration", "2h",
                      "--record", str(recording), "--out", str(report), *common)
        deadline = time.monotonic() + LIMIT_S
        part = tmp_path / "live.jsonl.part"
        while not (part.exists() and part.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the child's loopback I/O (the recorder flushes its first line at once)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=LIMIT_S)
    assert proc.returncode == code, stderr
    assert json.loads(report.read_text())["market"]["live"]["stopped_by"] == sig.name
    replay_and_diff(tmp_path, recording, report, common)


def test_nothing_received_is_exit_1_and_no_report(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the block ends
    result = done("shadow", "--market", "bybit-live", "--ws-url", f"ws://127.0.0.1:{port}", "--duration", "300ms",
                  "--out", str(tmp_path / "r.json"), *COMMON)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(f"error: no market data received from ws://127.0.0.1:{port}")
    assert list(tmp_path.iterdir()) == []
