"""Time `mmexec report diff` on large report-like files (load + diff), to show it scales linearly.

    .venv/bin/python benchmarks/bench_report_diff.py            # 25 MB and 50 MB
    .venv/bin/python benchmarks/bench_report_diff.py --sizes 10,20,40

For each size it writes two reports into a temp directory: A, and B = A with every 500th order changed, a few
positions added/removed and a new section. It times load_report, diff_reports of A with an equal copy and of A
with B (plain, and with --ignore patterns), and the whole CLI (`mmexec report diff --json A B`): best of --repeat.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmexec.canonical import dumps
from mmexec.reporting.diff import diff_reports, load_report

ORDER_BYTES = 215  # approximate canonical size of one order record below


def make_report(megabytes: float, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    symbols = [f"S{i:05d}USDT" for i in range(5000)]
    orders = []
    for i in range(int(megabytes * 1e6 / ORDER_BYTES)):
        orders.append(
            {
                "client_order_id": f"CLI{i + 1:08d}",
                "order_id": f"ORD{i + 1:06d}",
                "symbol": rng.choice(symbols),
                "side": rng.choice(["Buy", "Sell"]),
                "price": round(rng.uniform(1, 60000), 2),
                "qty": round(rng.uniform(0.001, 5), 4),
                "filled_qty": round(rng.uniform(0, 5), 4),
                "state": rng.choice(["FILLED", "CANCELED", "REJECTED", "OPEN"]),
                "ts_ms": 1735689600000 + 100 * i,
                "tags": ["shadow", rng.choice(["maker", "taker"])],
            }
        )
    return {
        "execution": {"iterations": len(orders), "symbols": symbols},
        "orders": {
            "placed": len(orders),
            "filled": 0,
            "rejected": 0,
            "canceled": 0,
            "risk_blocks": 0,
            "items": orders,
        },
        "positions": {
            "by_symbol": {s: round(rng.uniform(-10, 10), 6) for s in symbols},
            "net_pos_usd": {s: round(rng.uniform(-1e5, 1e5), 2) for s in symbols},
            "total_notional_usd": 123456.78,
        },
        "risk": {
            "frozen": False,
            "freeze_events": 0,
            "last_freeze_reason": None,
            "last_freeze_symbol": None,
            "blocks_total": 0,
            "freezes_total": 0,
        },
        "runtime": {"utc": "2025-01-01T00:00:00Z"},
    }


def perturb(report: dict[str, Any]) -> dict[str, Any]:
    items = report["orders"]["items"]
    for i in range(0, len(items), 500):
        items[i]["price"] = round(items[i]["price"] * 1.001, 2)
    by_symbol = report["positions"]["by_symbol"]
    for sym in list(by_symbol)[:10]:
        del by_symbol[sym]
    by_symbol["NEWUSDT"] = 1.5
    report["pnl"] = {"realized_usd": 12.5}
    report["runtime"]["utc"] = "2025-01-02T00:00:00Z"
    return report


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[str, Any]:
    """Best wall and CPU time of ``repeat`` runs (on a shared machine CPU time is the steadier figure)."""
    wall = cpu = float("inf")
    result = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return f"{wall:5.2f}s/{cpu:5.2f}s", result


def bench(megabytes: float, workdir: Path, repeat: int) -> None:
    a_path, b_path = workdir / f"a{megabytes:g}.json", workdir / f"b{megabytes:g}.json"
    a_path.write_bytes(dumps(make_report(megabytes)))
    b_path.write_bytes(dumps(perturb(make_report(megabytes))))
    size = a_path.stat().st_size / 1e6
    t_load, a = timed(lambda: load_report(a_path), repeat)
    b = load_report(b_path)
    a_again = load_report(a_path)  # an equal document that shares no objects with `a`
    t_same, same = timed(lambda: diff_reports(a, a_again), repeat)
    t_diff, diffs = timed(lambda: diff_reports(a, b), repeat)
    t_opts, with_opts = timed(lambda: diff_reports(a, b, ignore=["runtime.**", "orders.items[*].tags"]), repeat)
    cli = [sys.executable, "-m", "mmexec", "report", "diff", "--json", str(a_path), str(b_path)]
    t_cli, proc = timed(lambda: subprocess.run(cli, capture_output=True, check=False), repeat)
    print(
        f"{size:5.1f} MB | load {t_load} | diff A-A {t_same} ({len(same)}) | diff A-B {t_diff} ({len(diffs)}) | "
        f"with --ignore {t_opts} ({len(with_opts)}) | CLI --json {t_cli.split('/')[0]} (exit {proc.returncode})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,50", help="report sizes in MB, comma separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is shown")
    args = parser.parse_args()
    print("times are wall/CPU, best of --repeat; CLI = process start + load A + load B + diff + JSON out (wall)")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (float(s) for s in args.sizes.split(",")):
            bench(mb, Path(tmp), args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
