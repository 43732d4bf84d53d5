"""Sweeps on local processes: the same bytes whatever the workers, failures recorded, resume, Ctrl-C, outputs."""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import FROZEN_UTC

from mmexec.config.run import ShadowSettings
from mmexec.sweep.driver import run_sweep
from mmexec.sweep.executors import LocalExecutor
from mmexec.sweep.grid import make_plan, parse_grid_option, parse_seeds
from mmexec.sweep.results import ResultStore, read_lines
from mmexec.sweep.runner import RunResult
from mmexec.sweep.summary import summarize

SMALL = ("--iterations", "15", "--symbols", "BTCUSDT", "--grid", "requote_bps=1,2", "--grid", "fee_tier=VIP0,VIP2",
         "--seeds", "1..3")


def _plan(*grid: str, seeds: str = "1..3"):  # type: ignore[no-untyped-def]
    return make_plan(ShadowSettings, {"iterations": "15", "symbols": "BTCUSDT"}, [parse_grid_option(g) for g in grid],
                     parse_seeds(seeds), [], False)


def test_one_and_two_workers_write_the_same_bytes(cli, tmp_path: Path, snapshot_json) -> None:  # type: ignore[no-untyped-def]
    one = cli("sweep", *SMALL, "--workers", "1", "--out", "one.jsonl", "--json")
    two = cli("sweep", *SMALL, "--workers", "2", "--out", "two.jsonl", "--json")
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    data = (tmp_path / "one.jsonl").read_bytes()
    assert data == (tmp_path / "two.jsonl").read_bytes()
    assert one.stdout == two.stdout  # the summary too
    assert one.stderr.startswith("sweep: 12 runs = 2 × 2 grid × 3 seeds on 1 local worker\n")
    lines = [json.loads(raw) for raw in data.splitlines()]
    assert [line["run"] for line in lines][:2] == ["fee_tier=VIP0 requote_bps=1 seed=1",
                                                    "fee_tier=VIP0 requote_bps=1 seed=2"]
    assert all(line["error"] is None and line["utc"] == FROZEN_UTC for line in lines)
    assert data == snapshot_json


def test_result_line_matches_the_shadow_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    swept = cli("sweep", "--iterations", "15", "--symbols", "BTCUSDT", "--seeds", "4..5", "--workers", "1",
                "--out", "r.jsonl", "--reports-dir", "reports", "--csv", "r.csv")
    assert swept.exit_code == 0, swept.output
    shadow = cli("shadow", "--iterations", "15", "--symbols", "BTCUSDT", "--seed", "5")
    report = shadow.stdout_bytes
    line = json.loads((tmp_path / "r.jsonl").read_bytes().splitlines()[1], parse_float=Decimal)
    assert line["report_sha256"] == hashlib.sha256(report).hexdigest()
    assert (tmp_path / "reports" / "seed=5.json").read_bytes() == report
    parsed = json.loads(report, parse_float=Decimal)
    assert line["metrics"]["net_pnl"] == parsed["pnl"]["total"]["net"]
    assert line["metrics"]["fills"] == parsed["orders"]["fills"]
    csv_rows = (tmp_path / "r.csv").read_text().splitlines()
    assert csv_rows[0].startswith("run,seed,fees,fill_ratio,fills,")
    assert csv_rows[2].startswith(f"seed=5,5,{line['metrics']['fees']},")


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", "--iterations", "5", "--grid", "fee_tier=VIP0,VIP9", "--workers", "2", "--out", "r.jsonl")
    assert result.exit_code == 1
    lines = [json.loads(raw) for raw in (tmp_path / "r.jsonl").read_bytes().splitlines()]
    assert [(line["run"], line["error"] is None) for line in lines] == [("fee_tier=VIP0 seed=42", True),
                                                                       ("fee_tier=VIP9 seed=42", False)]
    assert "VIP9" in lines[1]["error"] and lines[1]["metrics"] is None
    assert "1 failed" in result.stderr


def test_resume_skips_finished_runs_and_gives_the_same_bytes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("sweep", *SMALL, "--workers", "1", "--out", "full.jsonl").exit_code == 0
    full = (tmp_path / "full.jsonl").read_bytes()
    lines = full.splitlines(keepends=True)
    # A killed sweep: some runs done (in completion order), the last line torn.
    (tmp_path / "part.jsonl").write_bytes(lines[7] + lines[2] + lines[5][:40])
    resumed = cli("sweep", *SMALL, "--workers", "2", "--out", "part.jsonl", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "10 run(s) done, 0 failed, 2 skipped (already in --out)" in resumed.stderr
    assert (tmp_path / "part.jsonl").read_bytes() == full


def test_resume_refuses_results_of_another_sweep(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("sweep", *SMALL, "--workers", "1", "--out", "r.jsonl").exit_code == 0
    before = (tmp_path / "r.jsonl").read_bytes()
    other = cli("sweep", *SMALL, "--fill-rate", "0.5", "--workers", "1", "--out", "r.jsonl", "--resume")
    assert other.exit_code == 2
    assert other.stderr.endswith("use another --out or drop --resume (--out r.jsonl)\n")
    assert (tmp_path / "r.jsonl").read_bytes() == before


def test_interrupt_keeps_finished_runs_then_resume_completes(tmp_path: Path) -> None:
    plan = _plan("requote_bps=1,2")
    seen: list[str] = []

    out = tmp_path / "r.jsonl"

    def ctrl_c_after_three(result: RunResult) -> None:
        assert out.read_bytes().endswith(result.line)  # streamed to disk as soon as the run finished
        seen.append(result.key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    outcome = run_sweep(plan, LocalExecutor(1), out, utc=FROZEN_UTC, on_result=ctrl_c_after_three)
    assert outcome.interrupted and outcome.stored == 3
    assert [line["run"] for line, _ in read_lines(out)] == seen  # sorted, complete lines
    again = run_sweep(plan, LocalExecutor(2), out, utc=FROZEN_UTC, resume=True)
    assert (again.skipped, again.done, again.stored) == (3, 3, 6)
    reference = tmp_path / "ref.jsonl"
    run_sweep(plan, LocalExecutor(1), reference, utc=FROZEN_UTC)
    assert out.read_bytes() == reference.read_bytes()


def test_finalize_is_independent_of_completion_order(tmp_path: Path) -> None:
    plan = _plan("requote_bps=1,2,10", seeds="1..2")
    results = list(LocalExecutor(1).run([*_tasks(plan)]))
    outputs = set()
    for seed in range(5):
        shuffled = results[:]
        random.Random(seed).shuffle(shuffled)
        store = ResultStore(tmp_path / f"{seed}.jsonl", "x", resume=False)
        store.open()
        for result in shuffled:
            store.record(result)
        store.finalize()
        outputs.add((tmp_path / f"{seed}.jsonl").read_bytes())
    assert len(outputs) == 1


def _tasks(plan):  # type: ignore[no-untyped-def]
    from mmexec.sweep.driver import tasks_of

    return tasks_of(plan, FROZEN_UTC, keep_reports=False, skip=set())


def test_summary_statistics_are_exact() -> None:
    def line(combo: str, seed: int, net: str | None) -> dict[str, object]:
        metrics = None if net is None else {"net_pnl": Decimal(net)}
        return {"run": f"{combo} seed={seed}", "combination": combo, "params": {"seed": seed}, "metrics": metrics,
                "error": None if net is not None else "boom"}

    summary = summarize([line("a=1", 1, "0.1"), line("a=1", 2, "0.2"), line("a=1", 3, "0.3"),
                         line("a=2", 1, "5"), line("a=2", 2, None)], "net_pnl")
    best, second = summary.combinations
    assert (best.combination, best.mean, best.worst, best.runs, best.failed) == ("a=2", Decimal(5), Decimal(5), 2, 1)
    assert (second.mean, second.stdev, second.worst, second.best) == (Decimal("0.2"), Decimal("0.1"), Decimal("0.1"),
                                                                      Decimal("0.3"))
    assert (summary.runs, summary.failed) == (5, 1)


@pytest.mark.parametrize("metric", ["fees", "max_abs_inventory"])
def test_lower_is_better_metrics_rank_ascending(metric: str) -> None:
    lines = [{"run": f"a={i}", "combination": f"a={i}", "params": {}, "error": None,
              "metrics": {metric: Decimal(v)}} for i, v in enumerate(["3", "1", "2"])]
    summary = summarize(lines, metric)
    assert [c.combination for c in summary.combinations] == ["a=1", "a=2", "a=0"]
    assert summary.combinations[0].worst == Decimal(1)


def test_installed_cli_two_workers_and_run_flags_that_look_like_options(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    sibling = Path(sys.executable).with_name("mmexec")
    mmexec = str(sibling) if sibling.exists() else shutil.which("mmexec") or "mmexec"
    args = [mmexec, "sweep", "--edge-threshold", "-1000", "--iterations", "20", "--grid", "requote_bps=1,2",
            "--seeds", "1..2", "--out", "r.jsonl", "--json"]
    two = subprocess.run([*args, "--workers", "2"], capture_output=True, cwd=tmp_path, timeout=120, check=False)
    assert two.returncode == 0, two.stderr
    assert two.stderr.decode().splitlines() == ["sweep: 4 runs = 2 grid × 2 seeds on 2 local workers",
                                                "sweep: 4 run(s) done, 0 failed; 4 in r.jsonl"]
    lines = [json.loads(raw) for raw in (tmp_path / "r.jsonl").read_bytes().splitlines()]
    assert {line["utc"] for line in lines} == {FROZEN_UTC}
    assert all(line["error"] is None for line in lines)
    summary = json.loads(two.stdout)
    assert (summary["runs"], summary["combinations_total"], summary["rank_by"]) == (4, 2, "net_pnl")


def test_a_killed_local_worker_process_loses_no_run(tmp_path: Path) -> None:
    import os
    import signal

    plan = _plan("requote_bps=1,2", seeds="1..4")
    reference = tmp_path / "ref.jsonl"
    run_sweep(plan, LocalExecutor(1), reference, utc=FROZEN_UTC)
    executor = LocalExecutor(2)
    killed: list[int] = []

    def kill_a_worker(result: RunResult) -> None:
        if not killed:
            pid = sorted(executor._pool._processes)[0]
            os.kill(pid, signal.SIGKILL)  # the pool breaks; a new pool reruns the runs not finished
            killed.append(pid)

    out = tmp_path / "r.jsonl"
    outcome = run_sweep(plan, executor, out, utc=FROZEN_UTC, on_result=kill_a_worker)
    assert killed and (outcome.done, outcome.failed, outcome.stored) == (8, 0, 8)
    assert out.read_bytes() == reference.read_bytes()


def test_unwritable_out_is_one_line_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", "--iterations", "5", "--seeds", "1..2", "--workers", "1", "--out", "missing/r.jsonl")
    assert result.exit_code == 2
    assert result.stderr == "error: the directory of 'missing/r.jsonl' does not exist (--out)\n"


def test_progress_bar_on_stderr_counts_done_and_failed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", "--iterations", "5", "--grid", "fee_tier=VIP0,VIP9", "--seeds", "1..2", "--workers", "1",
                 "--out", "r.jsonl", "--progress", "--json")
    assert result.exit_code == 1
    assert "4/4" in result.stderr and "failed 2" in result.stderr and "ETA" in result.stderr
    assert json.loads(result.stdout)["failed"] == 2  # stdout stays the summary alone


def test_grid_file_with_run_table_and_command_line_overrides(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "sweep.toml").write_text('seeds = "1..2"\n[grid]\nrequote_bps = [1, 2]\nfee_tier = ["VIP0", "VIP2"]\n'
                                         "[run]\niterations = 5\nfill_rate = 0.5\n")
    result = cli("sweep", "--grid-file", "sweep.toml", "--grid", "fee_tier=VIP3", "--fill-rate", "0.6", "--dry-run",
                 "--json")
    assert result.exit_code == 0, result.output
    runs = [json.loads(line)["run"] for line in result.stdout.splitlines()]
    assert runs == ["fee_tier=VIP3 requote_bps=1 seed=1", "fee_tier=VIP3 requote_bps=1 seed=2",
                    "fee_tier=VIP3 requote_bps=2 seed=1", "fee_tier=VIP3 requote_bps=2 seed=2"]
    swept = cli("sweep", "--grid-file", "sweep.toml", "--fill-rate", "0.6", "--workers", "1", "--out", "r.jsonl",
                "--reports-dir", "reports", "--json")
    assert swept.exit_code == 0
    line = json.loads((tmp_path / "r.jsonl").read_bytes().splitlines()[0])
    assert line["run"] == "fee_tier=VIP0 requote_bps=1 seed=1"
    config = json.loads((tmp_path / "reports" / "fee_tier=VIP0,requote_bps=1,seed=1.json").read_bytes())["config"]
    assert (config["iterations"], config["fill_rate"], config["fee_tier"], config["seed"]) == (5, 0.6, "VIP0", 1)
