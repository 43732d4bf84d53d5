"""Live session throughput and memory against the loopback Bybit server (a script, not a test: nothing here
asserts a time).

    .venv/bin/python benchmarks/bench_live.py [--deltas 10000] [--symbols XRPUSDT] [--memory]

One ``LiveSession`` (feed, parser, book, queue venue, quoting, markouts, gzip recording) consumes the server's
script (a snapshot, ``--deltas`` deltas and a trade every fifth delta per symbol) as fast as the server writes it;
the server runs in the same process, so its own cost (copying and encoding each message) is included: the
figure is a floor. ``--memory`` traces Python allocations (slower) and reports what is still allocated at the end
with the server's own history cleared: compare two ``--deltas`` to see it stay flat.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bybit_ws_server import BybitWsServer, make_feed, until  # noqa: E402

from mmexec.run.live import LiveSession  # noqa: E402
from mmexec.run.spec import RunSpec  # noqa: E402


async def session(deltas: int, symbols: tuple[str, ...], out: Path, memory: bool) -> None:
    async with BybitWsServer(deltas=deltas, now_ms=lambda: time.time_ns() // 1_000_000) as server:
        grids = {s: "0.0001/1" for s in symbols}
        spec = RunSpec.from_settings({"market": "bybit-live", "symbols": symbols, "quote_interval_ms": 100,
                                      "instrument": grids, "record": out})
        live = LiveSession(spec, utc="2026-01-01T00:00:00Z", feed=make_feed(server, symbols))
        total = len(symbols) * (1 + deltas + deltas // 5)
        started = time.perf_counter()
        cpu = time.process_time()
        task = asyncio.ensure_future(live.run_async())
        await until(lambda: live.feed.stats.delivered + live.feed.stats.drops >= total and live.feed.queue_depth == 0)
        live.stop("duration")
        await task
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"messages {total}  wall {wall:.2f} s ({total / wall:,.0f}/s)  cpu {cpu:.2f} s  "
              f"drops {live.feed.stats.drops}  recording {out.stat().st_size:,} bytes")
        if memory:
            server.sent.clear()
            server.requests.clear()
            gc.collect()
            traced = sum(stat.size for stat in tracemalloc.take_snapshot().statistics("filename"))
            print(f"traced Python allocations at the end: {traced / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deltas", type=int, default=10_000)
    parser.add_argument("--symbols", default="XRPUSDT")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    if args.memory:
        tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(session(args.deltas, tuple(args.symbols.split(",")), Path(tmp) / "live.jsonl.gz", args.memory))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
