"""A full L2 order book per symbol, in integer ticks and lots, following each venue's sequencing rules.

States: ``partial`` (no snapshot yet: diffs are applied as they come, levels never seen are unknown, the top
comes from the best bid/offer stream), ``synced`` (a snapshot and an unbroken chain of diffs since), ``invalid``
(a sequence gap after a sync: nothing is quoted or filled until the next snapshot).

Sequencing: Binance USD-M: diffs with ``u < lastUpdateId`` are dropped; the first applied one has ``U <=
lastUpdateId <= u`` (or ``pu == lastUpdateId``); then each ``pu`` must equal the previous ``u``. Binance spot:
the first applied has ``U <= lastUpdateId + 1 <= u``, then ``U == previous u + 1``. Bybit: a delta's ``u`` must
be the previous ``u + 1``. Diffs received before the snapshot are kept (at most :data:`PRE_SNAPSHOT_BUFFER`) and
replayed onto it, as the venues document for building a local book.

The *touch* is the freshest top of book (by exchange time) from either the L2 book or the best bid/offer stream.
A crossed touch (bid >= ask) is counted once per episode and is not tradable.

``on_event`` (optional) is told ``(kind, symbol, exch_ms)`` each time a counter moves: ``gap``, ``resync``
(a snapshot that ends an invalid state), ``crossed`` (a crossing episode starts). It is called only on those
rare events, never per update.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, Levels

PARTIAL, SYNCED, INVALID = "partial", "synced", "invalid"
PRE_SNAPSHOT_BUFFER = 10_000
_SCAN = 64  # ticks walked from a deleted best before falling back to a full scan


class OrderBook:
    __slots__ = ("ask", "ask_qty", "asks", "best_ask", "best_bid", "bid", "bid_qty", "bids", "crossed",
                 "crossed_events", "fresh", "gaps", "last_id", "on_event", "pending", "resyncs", "snapshots", "state",
                 "symbol", "top_exch_ms", "tradable", "unknown_warned")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid = 0  # 0: no bid
        self.best_ask = 0  # 0: no ask
        self.state = PARTIAL
        self.last_id = -1
        self.fresh = False
        self.pending: deque[BookDelta] = deque(maxlen=PRE_SNAPSHOT_BUFFER)
        # the touch (freshest top of book from either source)
        self.bid = self.ask = self.bid_qty = self.ask_qty = 0
        self.top_exch_ms = -1
        self.crossed = False
        # True when the touch may be quoted and matched against: not invalid, both sides known, not crossed
        self.tradable = False
        self.snapshots = self.gaps = self.resyncs = self.crossed_events = 0
        self.unknown_warned = False
        self.on_event: Callable[[str, str, int], object] | None = None

    # ------------------------------------------------------------------ queries
    def qty_at(self, is_bid: bool, price: int) -> int | None:
        """Displayed quantity at ``price`` (0 when known empty); ``None`` when unknown (partial book)."""
        side = self.bids if is_bid else self.asks
        qty = side.get(price)
        if qty is not None:
            return qty
        if is_bid and price == self.bid:
            return self.bid_qty
        if not is_bid and price == self.ask:
            return self.ask_qty
        if self.state == SYNCED:
            return 0
        return None

    def mid2(self) -> int:
        """Twice the mid of the touch in ticks (0 when unknown)."""
        return self.bid + self.ask if self.bid and self.ask else 0

    # ------------------------------------------------------------------ updates
    def apply_snapshot(self, ev: BookSnapshot) -> None:
        was_invalid = self.state == INVALID
        self.bids = {p: q for p, q in ev.bids if q}
        self.asks = {p: q for p, q in ev.asks if q}
        self.snapshots += 1
        self.last_id = ev.update_id
        self.state = SYNCED
        self.fresh = True
        if was_invalid:
            self.resyncs += 1
            self._tell("resync", ev.exch_ms)
        pending, self.pending = self.pending, deque(maxlen=PRE_SNAPSHOT_BUFFER)
        self._rebest()
        for delta in pending:
            if delta.last_id >= ev.update_id:
                self.apply_delta(delta)
        self._set_top(ev.exch_ms)
        self._check_crossed()

    def apply_delta(self, ev: BookDelta) -> bool:
        """Apply a diff; False when it was dropped (stale, or the book is invalid / just became invalid)."""
        state = self.state
        if state == SYNCED:
            last = self.last_id
            if self.fresh:  # the first diff after a snapshot
                if ev.last_id < last + (ev.prev_id < 0):
                    return False  # already covered by the snapshot
                chained = ev.first_id <= last + (ev.prev_id < 0) <= ev.last_id or ev.prev_id == last
                self.fresh = False
            elif ev.prev_id >= 0:
                chained = ev.prev_id == last
            else:
                chained = ev.first_id == last + 1
            if not chained:
                self._gap()
                self._tell("gap", ev.exch_ms)
                return False
        elif state == INVALID:
            return False
        else:
            self.pending.append(ev)
        self.last_id = ev.last_id
        self._levels(self.bids, ev.bids, True)
        self._levels(self.asks, ev.asks, False)
        self._set_top(ev.exch_ms)
        return True

    def _gap(self) -> None:
        self.gaps += 1
        self.invalidate()

    def invalidate(self) -> None:
        """Forget the book until its next snapshot (no quote, no fill meanwhile); that snapshot is a resync.
        A gap does this; so does a resumed live session, whose checkpointed book is stale."""
        self.state = INVALID
        self.fresh = False
        self.pending.clear()
        self.bids.clear()
        self.asks.clear()
        self.best_bid = self.best_ask = 0
        self.bid = self.ask = self.bid_qty = self.ask_qty = 0
        self.tradable = False

    def apply_bbo(self, ev: BestBidAsk) -> None:
        if ev.exch_ms < self.top_exch_ms or self.state == INVALID:
            return
        self.top_exch_ms = ev.exch_ms
        self.bid, self.bid_qty, self.ask, self.ask_qty = ev.bid, ev.bid_qty, ev.ask, ev.ask_qty
        self._check_crossed()

    def _levels(self, side: dict[int, int], levels: Levels, is_bid: bool) -> None:
        best = self.best_bid if is_bid else self.best_ask
        rescan = False
        for price, qty in levels:
            if qty:
                side[price] = qty
                if not best or (price > best if is_bid else price < best):
                    best = price
            else:
                side.pop(price, None)
                if price == best:
                    rescan = True
        if rescan and best not in side:
            best = self._walk(side, best, -1 if is_bid else 1)
        if is_bid:
            self.best_bid = best
        else:
            self.best_ask = best

    @staticmethod
    def _walk(side: dict[int, int], start: int, step: int) -> int:
        price = start
        for _ in range(_SCAN):
            price += step
            if price in side:
                return price
        if not side:
            return 0
        return max(side) if step < 0 else min(side)

    def _rebest(self) -> None:
        self.best_bid = max(self.bids) if self.bids else 0
        self.best_ask = min(self.asks) if self.asks else 0

    def _set_top(self, exch_ms: int) -> None:
        if exch_ms < self.top_exch_ms or self.state != SYNCED:
            return  # a partial book's own best levels are not trusted: the best bid/offer stream sets the top
        self.top_exch_ms = exch_ms
        self.bid, self.ask = self.best_bid, self.best_ask
        self.bid_qty = self.bids.get(self.bid, 0)
        self.ask_qty = self.asks.get(self.ask, 0)
        self._check_crossed()

    def _check_crossed(self) -> None:
        crossed = bool(self.bid and self.ask and self.bid >= self.ask)
        if crossed and not self.crossed:
            self.crossed_events += 1
            self._tell("crossed", self.top_exch_ms)
        self.crossed = crossed
        self.tradable = self.state != INVALID and self.bid > 0 and self.ask > 0 and not crossed

    def _tell(self, kind: str, exch_ms: int) -> None:
        if self.on_event is not None:
            self.on_event(kind, self.symbol, exch_ms)
