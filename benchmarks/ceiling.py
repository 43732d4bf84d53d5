"""The ceiling of ``bench_engine.py --workload``: a tight pure-Python market-making loop doing the engine's work
per quote on plain integers (a seeded walk per symbol, one order per side requoted past ``requote_bps``, a
worst-case risk check, an order store, a venue with per-order fate and fill latency, a fee sum and two
average-cost books). Imported by the benchmark's child process, which times it beside the engine.
"""

import random
import time
from collections import deque


def ceiling(iterations: int, symbols: int, fill_rate: float, seed: int) -> tuple[int, float]:
    """(quotes, CPU seconds) of the loop."""
    # per symbol: mid, step, half spread, requote ticks, qty lots, resting (bid, ask) orders, position, cost
    rng = random.Random(seed)
    rnd = rng.random
    books = []
    for ref_ticks in (500_000, 300_000)[:symbols]:
        books.append({"mid": ref_ticks, "step": ref_ticks // 10_000, "half": ref_ticks * 2 // 10_000,
                      "rq": ref_ticks * 2 // 10_000, "qty": 20, "edge": 3.0, "bid": None, "ask": None,
                      "pos": 0, "cost": 0, "open_buy": 0, "open_sell": 0, "venue_pos": 0, "venue_cost": 0})
    limit = 10_000 * 10_000  # max_inv in ticks x lots
    orders = {}
    due = deque()
    seq = 0
    fees = 0
    realized = 0
    quotes = 0
    now = 0
    c0 = time.process_time()
    for _ in range(iterations):
        now += 100
        while due and due[0][0] <= now:  # fills: store, risk, venue, fee ledger, two average-cost books
            _, oid = due.popleft()
            order = orders.pop(oid, None)
            if order is None:
                continue
            b, is_buy, px, qty = order
            signed = qty if is_buy else -qty
            if is_buy:
                b["open_buy"] -= qty * px
                if b["bid"] is not None and b["bid"][0] == oid:
                    b["bid"] = None
            else:
                b["open_sell"] -= qty * px
                if b["ask"] is not None and b["ask"][0] == oid:
                    b["ask"] = None
            fees += qty * px
            for pos_key, cost_key in (("pos", "cost"), ("venue_pos", "venue_cost")):
                pos, cost = b[pos_key], b[cost_key]
                if pos and (pos > 0) != (signed > 0):
                    closing = -signed if abs(signed) <= abs(pos) else pos
                    removed = cost if closing == pos else cost * closing // pos
                    realized += closing * px - removed
                    pos -= closing
                    cost -= removed
                    signed += closing
                b[pos_key] = pos + signed
                b[cost_key] = cost + signed * px
        for b in books:
            u = rnd()
            if u < 1 / 3:
                b["mid"] -= b["step"]
            elif u >= 2 / 3:
                b["mid"] += b["step"]
            b["edge"] += 0.1 * (3.0 - b["edge"]) + 0.9 * (rnd() - 0.5)
            quotes += 1
            for side, px in (("bid", b["mid"] - b["half"]), ("ask", b["mid"] + b["half"])):
                resting = b[side]
                if resting is not None and abs(resting[1] - px) <= b["rq"]:
                    continue
                is_buy = side == "bid"
                if resting is not None:  # cancel
                    orders.pop(resting[0], None)
                    if is_buy:
                        b["open_buy"] -= b["qty"] * resting[1]
                    else:
                        b["open_sell"] -= b["qty"] * resting[1]
                    b[side] = None
                qty = b["qty"]
                pos_usd = b["pos"] * px
                worst = pos_usd + b["open_buy"] + qty * px if is_buy else pos_usd - b["open_sell"] - qty * px
                if abs(worst) > limit:  # risk block
                    continue
                seq += 1
                if rnd() < 0.05:  # rejected
                    continue
                orders[seq] = (b, is_buy, px, qty)
                if is_buy:
                    b["open_buy"] += qty * px
                else:
                    b["open_sell"] += qty * px
                b[side] = (seq, px)
                if rnd() < fill_rate:
                    due.append((now + 100, seq))
    cpu = time.process_time() - c0
    return quotes, cpu
