"""Sweeps on a real Dask cluster on 127.0.0.1 (process workers): the same bytes as local processes, even when a
worker is killed mid-sweep; an unreachable scheduler is one line and exit 2."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FROZEN_UTC

from mmexec.config.run import ShadowSettings
from mmexec.sweep.driver import run_sweep
from mmexec.sweep.executors import DaskExecutor, LocalExecutor
from mmexec.sweep.grid import make_plan, parse_grid_option, parse_seeds
from mmexec.sweep.runner import RunResult

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

SMALL = ("--iterations", "15", "--symbols", "BTCUSDT", "--grid", "requote_bps=1,2", "--grid", "fee_tier=VIP0,VIP2",
         "--seeds", "1..3")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.ERROR) as local:
        yield local


def test_dask_cluster_writes_the_same_bytes_as_local_workers(cli, cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    local = cli("sweep", *SMALL, "--workers", "2", "--out", "local.jsonl", "--json")
    remote = cli("sweep", *SMALL, "--scheduler", cluster.scheduler_address, "--out", "dask.jsonl", "--json",
                 "--reports-dir", "reports")
    assert local.exit_code == 0 and remote.exit_code == 0, local.output + remote.output
    assert (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "dask.jsonl").read_bytes()
    assert local.stdout == remote.stdout
    assert "on Dask scheduler 127.0.0.1:" in remote.stderr and "(2 workers)" in remote.stderr
    assert len(list((tmp_path / "reports").iterdir())) == 12


def test_a_killed_worker_loses_no_run(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(ShadowSettings, {"iterations": "300", "symbols": "BTCUSDT"},
                     [parse_grid_option("requote_bps=1,2,3")], parse_seeds("1..4"), [], False)
    reference = tmp_path / "ref.jsonl"
    run_sweep(plan, LocalExecutor(1), reference, utc=FROZEN_UTC)

    executor = DaskExecutor(cluster.scheduler_address)
    executor.connect([])
    client = executor._client
    killed: list[str] = []

    def kill_a_busy_worker(result: RunResult) -> None:
        if killed:
            return
        busy = sorted(w for w, keys in client.processing().items() if keys)
        victim = busy[0] if busy else sorted(client.scheduler_info()["workers"])[0]
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker; the scheduler reschedules the lost runs
        killed.append(victim)

    out = tmp_path / "dask.jsonl"
    outcome = run_sweep(plan, executor, out, utc=FROZEN_UTC, on_result=kill_a_busy_worker)
    assert killed
    errors = [line for line in out.read_text().splitlines() if '"error":null' not in line]
    assert not errors, errors
    assert (outcome.done, outcome.failed, outcome.stored) == (12, 0, 12)
    assert out.read_bytes() == reference.read_bytes()


def test_missing_data_file_on_the_workers_is_refused(cluster) -> None:  # type: ignore[no-untyped-def]
    from mmexec.errors import ConfigError

    executor = DaskExecutor(cluster.scheduler_address)
    with pytest.raises(ConfigError, match=r"data file '/nonexistent/day1.gz' is not readable on worker tcp://"):
        executor.connect(["/nonexistent/day1.gz"])
    assert executor._client is None


def test_unreachable_scheduler_is_one_line_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as sock:  # a port nobody listens on: bind, note it, close
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("sweep", *SMALL, "--scheduler", f"tcp://127.0.0.1:{port}", "--out", "r.jsonl")
    assert result.exit_code == 2
    assert result.stderr == (f"error: cannot reach the Dask scheduler at 127.0.0.1:{port}: Connection refused "
                             "(--scheduler)\n")
    assert not (tmp_path / "r.jsonl").exists()


def test_workers_and_scheduler_together_are_refused(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", *SMALL, "--scheduler", "tcp://127.0.0.1:1", "--workers", "2", "--out", "r.jsonl")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --workers is for local processes")


def test_interrupting_a_dask_sweep_keeps_finished_runs_and_resume_completes(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(ShadowSettings, {"iterations": "15", "symbols": "BTCUSDT"},
                     [parse_grid_option("requote_bps=1,2")], parse_seeds("1..4"), [], False)
    reference = tmp_path / "ref.jsonl"
    run_sweep(plan, LocalExecutor(1), reference, utc=FROZEN_UTC)

    def ctrl_c(result: RunResult) -> None:
        raise KeyboardInterrupt

    out = tmp_path / "dask.jsonl"
    first = DaskExecutor(cluster.scheduler_address)
    first.connect([])
    stopped = run_sweep(plan, first, out, utc=FROZEN_UTC, on_result=ctrl_c)
    assert stopped.interrupted and stopped.stored == 1 and first._client is None  # closed, futures cancelled
    second = DaskExecutor(cluster.scheduler_address)
    second.connect([])
    resumed = run_sweep(plan, second, out, utc=FROZEN_UTC, resume=True)
    assert (resumed.skipped, resumed.done, resumed.failed) == (1, 7, 0)
    assert out.read_bytes() == reference.read_bytes()
