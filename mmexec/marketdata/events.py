"""Normalised market events: frozen slotted dataclasses in integer ticks and lots of the instrument grid.

Every event carries ``symbol``, ``local_ns`` (receive time, the strategy's clock, after the clamp described in
the README: never earlier than the exchange time) and ``exch_ms`` (exchange event time, the venue's clock).
Levels are ``(price_ticks, qty_lots)`` tuples; a quantity of 0 deletes the level.
"""

from __future__ import annotations

from dataclasses import dataclass

Level = tuple[int, int]
Levels = tuple[Level, ...] | list[Level]


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """A full book: replaces everything known about the symbol."""

    symbol: str
    local_ns: int
    exch_ms: int
    bids: Levels
    asks: Levels
    update_id: int


@dataclass(frozen=True, slots=True)
class BookDelta:
    """Changed levels with their new absolute quantities. ``prev_id`` is -1 when the venue gives none
    (Binance spot, Bybit: continuity is ``first_id == previous last_id + 1``)."""

    symbol: str
    local_ns: int
    exch_ms: int
    bids: Levels
    asks: Levels
    first_id: int
    last_id: int
    prev_id: int


@dataclass(frozen=True, slots=True)
class BestBidAsk:
    """Top of book from a best bid/offer stream."""

    symbol: str
    local_ns: int
    exch_ms: int
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int


@dataclass(frozen=True, slots=True)
class TradePrint:
    """A public trade; ``aggressor_side`` is ``"BUY"`` (taker bought, hit the ask) or ``"SELL"``."""

    symbol: str
    local_ns: int
    exch_ms: int
    price: int
    qty: int
    aggressor_side: str
    trade_id: int


MarketEvent = BookSnapshot | BookDelta | BestBidAsk | TradePrint
