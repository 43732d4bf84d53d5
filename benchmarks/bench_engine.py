"""Engine and CLI performance figures (a script, not a test: nothing here asserts a time).

    python benchmarks/bench_engine.py            # everything (about a minute or two)
    python benchmarks/bench_engine.py --quick    # smaller runs, for a smoke check
    python benchmarks/bench_engine.py --json results.json

Throughput is quotes per second = iterations x symbols / engine time, where engine time is the CPU time of
``ExecutionLoop.run`` alone (market, risk, order store, exchange, fees, PnL; not process start-up or JSON).
Each scenario runs in a fresh interpreter so peak RSS (``ru_maxrss``) belongs to that scenario only. Every figure
says which build of the engine it measured: ``engine: compiled (mypyc)`` (a wheel built by ``pip install .``) or
``engine: pure Python`` (an editable install, ``MMEXEC_PURE_PYTHON=1``); see docs/performance.md.

Scenarios use the CLI's defaults except where named:
- ``default``: the original example's flags. The edge freeze is latched, so long runs spend most steps frozen (quoting
  stops); this is what `mmexec shadow` does out of the box.
- ``busy``: ``--edge-threshold -1000``: never freezes, the strategy trades on every step of the run.
- ``workload``: the performance target's workload: ``--edge-threshold 0``, 100,000 iterations x 2 symbols,
  fill rate 0.7, printed beside a *ceiling*: a tight pure-Python market-making loop doing the same work per quote
  (a seeded walk per symbol, one order per side requoted past ``requote_bps``, a worst-case risk check, an order
  store, a venue with per-order fate and fill latency, a fee ledger and two average-cost books) on plain integers,
  in the same process. ``ratio`` = engine quotes/s / ceiling quotes/s: it means the same on a faster or slower
  machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SYMBOLS5 = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
SYMBOLS2 = SYMBOLS5[:2]

_CHILD = r"""
import json, resource, sys, time
from decimal import Decimal
from mmexec._build import engine_build
from mmexec.run.builder import build_run
from mmexec.run.spec import RunSpec
spec = json.loads(sys.argv[1])
if spec["ceiling"]:
    sys.path.insert(0, spec["ceiling"])
    from ceiling import ceiling
utc = "2025-01-01T00:00:00Z"
best = None
for _ in range(spec["repeat"]):
    cfg = RunSpec.from_settings({"symbols": spec["symbols"], "iterations": spec["iterations"],
                                 "edge_threshold": Decimal(spec["edge_threshold"])})
    session = build_run(cfg, utc=utc)
    params = session.params()
    c0, w0 = time.process_time(), time.perf_counter()
    report = session.loop.run(params)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    if best is None or cpu < best["cpu_s"]:
        best = {"cpu_s": cpu, "wall_s": wall, "placed": report["orders"]["placed"],
                "fills": report["orders"]["fills"], "frozen": report["risk"]["frozen"]}
    del session, report
    if spec["ceiling"]:  # the reference, in the same process, alternating with the engine
        quotes, cpu = ceiling(spec["iterations"], len(spec["symbols"]), 0.7, 42)
        best["ceiling_quotes_per_s"] = max(best.get("ceiling_quotes_per_s", 0), round(quotes / cpu))
best["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
best["engine"] = engine_build()  # compiled (mypyc) or pure Python: the build this child measured
print(json.dumps(best))
"""


def workload(repeat: int) -> dict[str, object]:
    """The target workload (--edge-threshold 0, 100,000 x 2, fill rate 0.7) and its ratio to the ceiling loop,
    timed in the same process (alternating; the best of ``repeat`` each)."""
    result = engine("workload: 100,000 x 2, threshold 0", SYMBOLS2, 100_000, "0", repeat, with_ceiling=True)
    engine_qps, ceiling_qps = int(result["quotes_per_s"]), int(result["ceiling_quotes_per_s"])  # type: ignore[call-overload]
    result["ratio"] = round(engine_qps / ceiling_qps, 3)
    return result


def engine(name: str, symbols: list[str], iterations: int, edge_threshold: str, repeat: int, *,
           with_ceiling: bool = False) -> dict[str, object]:
    spec = {"symbols": symbols, "iterations": iterations, "edge_threshold": edge_threshold, "repeat": repeat,
            "ceiling": str(Path(__file__).resolve().parent) if with_ceiling else ""}
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(spec)], capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout)
    quotes = iterations * len(symbols)
    result.update(name=name, iterations=iterations, symbols=len(symbols), quotes=quotes,
                  quotes_per_s=round(quotes / result["cpu_s"]))
    return result


def python_ms(code: str, runs: int) -> float:
    """Median wall time of ``python -c code``: the floor the CLI's start-up sits on."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def command_ms(args: list[str], runs: int) -> float:
    env = {**os.environ, "MM_FREEZE_UTC_ISO": "2025-01-01T00:00:00Z"}
    mmexec = str(Path(sys.executable).with_name("mmexec"))
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([mmexec, *args], capture_output=True, check=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "os": platform.platform()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke check)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--workload", action="store_true", help="only the target workload and its ceiling ratio")
    args = parser.parse_args()
    if args.workload:
        r = workload(repeat=3)
        print(f"{r['name']}: {r['quotes_per_s']:,} quotes/s; ceiling {r['ceiling_quotes_per_s']:,} quotes/s; "
              f"ratio {r['ratio']}; peak RSS {r['max_rss_mib']:.1f} MiB; engine: {r['engine']}")
        return
    big = 100_000 if args.quick else 1_000_000
    scenarios = [
        ("(a) 500 x 5, default", SYMBOLS5, 500, "1.5", 20),
        ("(a) 500 x 5, busy", SYMBOLS5, 500, "-1000", 20),
        (f"(b) {big:,} x 2, default", SYMBOLS2, big, "1.5", 1),
        (f"(b) {big:,} x 2, busy", SYMBOLS2, big, "-1000", 1),
        (f"memory: {big // 10:,} x 2, busy", SYMBOLS2, big // 10, "-1000", 1),
    ]
    results = [engine(*s) for s in scenarios]
    target = workload(repeat=1 if args.quick else 3)
    runs = 5 if args.quick else 11
    cli = {
        "help_ms": command_ms(["--help"], runs),
        "shadow_default_ms": command_ms(["shadow"], runs),
        "python_bare_ms": python_ms("pass", runs),
        "import_typer_ms": python_ms("import typer", runs),
        "import_pydantic_settings_ms": python_ms("import pydantic_settings", runs),
    }
    print(f"machine: {machine()}")
    print(f"{'scenario':34} {'quotes/s':>12} {'cpu s':>8} {'placed':>9} {'fills':>9} {'frozen':>7} {'max RSS MiB':>12}"
          f"  engine")
    for r in results:
        print(f"{r['name']:34} {r['quotes_per_s']:>12,} {r['cpu_s']:>8.3f} {r['placed']:>9,} {r['fills']:>9,} "
              f"{r['frozen']!s:>7} {r['max_rss_mib']:>12.1f}  {r['engine']}")
    print(f"{target['name']}: {target['quotes_per_s']:,} quotes/s, ceiling {target['ceiling_quotes_per_s']:,} "
          f"quotes/s, ratio {target['ratio']} (target >= 300,000 quotes/s and >= 0.35); engine: {target['engine']}")
    print(f"mmexec --help: {cli['help_ms']:.0f} ms (median); mmexec shadow (default): "
          f"{cli['shadow_default_ms']:.0f} ms (median)")
    print(f"floor on this machine: python -c pass {cli['python_bare_ms']:.0f} ms, import typer "
          f"{cli['import_typer_ms']:.0f} ms, import pydantic_settings {cli['import_pydantic_settings_ms']:.0f} ms")
    if args.json:
        summary = {"machine": machine(), "engine_build": target["engine"], "engine": results, "workload": target,
                   "cli": cli}
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
