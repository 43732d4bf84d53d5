"""Normalised market events: immutable records in integer ticks and lots of the instrument grid.

They are named tuples, not frozen dataclasses, for the reason the engine's fills are (see
:mod:`mmexec.engine.models`): a replay builds one per recorded message, and a named tuple built with
``tuple.__new__`` costs a fifth of a frozen dataclass. They are just as immutable and slotted; compare them by
type as well as value (``type(a) is type(b) and a == b``) if it matters.

Every event carries ``symbol``, ``local_ns`` (receive time, the strategy's clock, after the clamp described in
the README: never earlier than the exchange time) and ``exch_ms`` (exchange event time, the venue's clock).
Levels are ``(price_ticks, qty_lots)`` tuples; a quantity of 0 deletes the level.
"""

from __future__ import annotations

from typing import NamedTuple

Level = tuple[int, int]
Levels = tuple[Level, ...] | list[Level]


class BookSnapshot(NamedTuple):
    """A full book: replaces everything known about the symbol."""

    symbol: str
    local_ns: int
    exch_ms: int
    bids: Levels
    asks: Levels
    update_id: int


class BookDelta(NamedTuple):
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


class BestBidAsk(NamedTuple):
    """Top of book from a best bid/offer stream."""

    symbol: str
    local_ns: int
    exch_ms: int
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int


class TradePrint(NamedTuple):
    """A public trade; ``aggressor_side`` is ``"BUY"`` (taker bought, hit the ask) or ``"SELL"``."""

    symbol: str
    local_ns: int
    exch_ms: int
    price: int
    qty: int
    aggressor_side: str
    trade_id: int


MarketEvent = BookSnapshot | BookDelta | BestBidAsk | TradePrint
