"""hftbacktest's reference market-making run on a Binance USD-M capture, for comparison with mmexec's replay.

Run it with hftbacktest in its OWN virtual environment (never the project's):

    python3 -m venv /tmp/hbt && /tmp/hbt/bin/pip install hftbacktest==2.4.4 'numpy<2.3'
    /tmp/hbt/bin/python benchmarks/hftbacktest_reference.py tests/fixtures/market/binance-usdm/btcusdt_20240808.gz
    /tmp/hbt/bin/python benchmarks/hftbacktest_reference.py FILE --partial   # hftbacktest's partial-fill exchange

Strategy (the README's "reference strategy"): every 100 ms, one post-only (GTX) limit order per side at the
touch, 0.016 BTC, re-quoted when the touch moved more than 2 bps, no new buy at a position >= +0.16 BTC (sell at
<= -0.16); 100 ms entry and response latency; risk-averse queue; no fees; hftbacktest's no-partial-fill exchange
(an order fills completely once the queue ahead is used up) unless ``--partial``. Prints the orders
submitted, filled (completely or partly) and expired (post-only rejects), and the convert / compile / run times.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from hftbacktest import GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest
from hftbacktest.data.utils import binancefutures
from numba import njit


@njit
def reference(hbt, stats):  # type: ignore[no-untyped-def]
    order_id = 0
    bid_id = -1
    ask_id = -1
    bid_px = 0.0
    ask_px = 0.0
    qty = 0.016
    cap = 0.16
    while hbt.elapse(100_000_000) == 0:
        orders = hbt.orders(0)
        # account for orders that finished since the last step
        values = orders.values()
        while values.has_next():
            order = values.get()
            if order.status == 3:  # FILLED
                stats[1] += 1
            elif order.status == 2:  # EXPIRED: post-only reject
                stats[2] += 1
        hbt.clear_inactive_orders(0)
        orders = hbt.orders(0)
        if bid_id >= 0 and bid_id not in orders:
            bid_id = -1
        if ask_id >= 0 and ask_id not in orders:
            ask_id = -1
        depth = hbt.depth(0)
        best_bid = depth.best_bid
        best_ask = depth.best_ask
        if not (best_bid > 0 and best_ask > best_bid):
            stats[3] += 1
            continue
        mid = (best_bid + best_ask) / 2
        band = mid * 2 / 10_000
        position = hbt.position(0)
        if bid_id >= 0 and abs(bid_px - best_bid) > band:
            hbt.cancel(0, bid_id, False)
        if ask_id >= 0 and abs(ask_px - best_ask) > band:
            hbt.cancel(0, ask_id, False)
        if bid_id < 0 and position < cap:
            order_id += 1
            bid_id, bid_px = order_id, best_bid
            hbt.submit_buy_order(0, bid_id, bid_px, qty, GTX, LIMIT, False)
            stats[0] += 1
        if ask_id < 0 and position > -cap:
            order_id += 1
            ask_id, ask_px = order_id, best_ask
            hbt.submit_sell_order(0, ask_id, ask_px, qty, GTX, LIMIT, False)
            stats[0] += 1
    return True


def main(path: str, partial: bool) -> None:
    t0 = time.perf_counter()
    data = binancefutures.convert(path, combined_stream=True)
    t1 = time.perf_counter()
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(100_000_000, 100_000_000)
        .risk_adverse_queue_model()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(0.1)
        .lot_size(0.001)
    )
    asset = asset.partial_fill_exchange() if partial else asset.no_partial_fill_exchange()
    hbt = HashMapMarketDepthBacktest([asset])
    stats = np.zeros(4, np.int64)
    t2 = time.perf_counter()
    reference(hbt, stats)
    t3 = time.perf_counter()
    print(f"orders {stats[0]}  filled {stats[1]}  post-only rejects (expired) {stats[2]}  "
          f"position {hbt.position(0):.3f}  steps skipped (no or crossed touch) {stats[3]}")
    print(f"convert {t1 - t0:.2f} s  compile+run {t3 - t2:.2f} s")
    hbt.close()


if __name__ == "__main__":
    main(sys.argv[1], "--partial" in sys.argv[2:])
