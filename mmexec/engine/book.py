"""The execution loop's quoting state per symbol: the resting order on each side, in ticks."""

from __future__ import annotations

from decimal import Decimal

from mypy_extensions import mypyc_attr

from mmexec.engine.market import Instrument
from mmexec.engine.order_store import StoredOrder
from mmexec.engine.risk import Exposure


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class QuoteBook:
    """One symbol's resting bid and ask (``None`` when the side is empty) and the last touch seen."""

    __slots__ = ("ask", "ask_blocked_at", "ask_ticks", "bid", "bid_blocked_at", "bid_ticks", "exposure", "inst",
                 "last_ask_ticks", "last_bid_ticks", "lot", "lots", "requote_ticks", "symbol", "tick")

    def __init__(self, inst: Instrument, requote_ticks: int, exposure: Exposure) -> None:
        self.inst = inst
        self.symbol = inst.symbol
        self.tick = inst.tick_size
        self.lot = inst.lot_size
        lots = inst.order_qty / inst.lot_size
        if lots != lots.to_integral_value() or lots <= 0:
            raise ValueError(f"{inst.symbol}: order_qty {inst.order_qty} is not a whole number of lots of "
                             f"{inst.lot_size}")
        self.lots = int(lots)  # the quote size in whole lots
        self.exposure = exposure  # the risk monitor's integer handle for this symbol
        self.requote_ticks = requote_ticks
        self.bid: StoredOrder | None = None
        self.ask: StoredOrder | None = None
        self.bid_ticks = 0
        self.ask_ticks = 0
        self.last_bid_ticks = 0
        self.last_ask_ticks = 0
        # risk version at which an empty side was last blocked (-1: not blocked, retry at once)
        self.bid_blocked_at = -1
        self.ask_blocked_at = -1

    @property
    def last_mid(self) -> Decimal | None:
        """Mid of the last quote seen (None before the first quote)."""
        if not self.last_bid_ticks and not self.last_ask_ticks:
            return None
        return (self.last_bid_ticks + self.last_ask_ticks) * self.inst.tick_size / 2
