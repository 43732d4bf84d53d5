"""Domain models: sides, order states, requests/responses, orders, positions, fills and quotes.

Prices and quantities are ``Decimal``; the public constructors also accept ``int``, ``float`` and ``str``
(floats are read through ``str()``, so ``0.1`` means exactly 0.1). Everything here is immutable: the
high-volume messages (requests, responses, fills) are named tuples, which build several times faster than
frozen dataclasses on the engine's hot path; the rest are frozen, slotted dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple, Self

Number = Decimal | int | float | str


def to_decimal(value: Number) -> Decimal:
    """Exact decimal of an operator-typed number: floats go through ``str`` (0.1 -> Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, str)):
        return Decimal(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderState(StrEnum):
    PENDING = "PENDING"  # created locally, not yet acknowledged
    OPEN = "OPEN"  # resting on the exchange
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        return self in _ACTIVE


_TERMINAL = frozenset({OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED})
_ACTIVE = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


class _PlaceOrderRequestFields(NamedTuple):
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal


class PlaceOrderRequest(_PlaceOrderRequestFields):
    """A limit order to place (immutable). ``qty`` and ``price`` are stored as exact Decimals."""

    __slots__ = ()

    def __new__(cls, client_order_id: str, symbol: str, side: Side | str, qty: Number, price: Number) -> Self:
        return tuple.__new__(cls, (client_order_id, symbol, Side(side), to_decimal(qty), to_decimal(price)))

    @classmethod
    def exact(cls, client_order_id: str, symbol: str, side: Side, qty: Decimal, price: Decimal) -> Self:
        """Fast constructor for callers that already hold a ``Side`` and ``Decimal`` values (the hot path)."""
        return tuple.__new__(cls, (client_order_id, symbol, side, qty, price))


class _PlaceOrderResponseFields(NamedTuple):
    success: bool
    client_order_id: str
    order_id: str | None = None
    state: OrderState = OrderState.OPEN
    message: str = ""
    raw: dict[str, Any] | None = None


class PlaceOrderResponse(_PlaceOrderResponseFields):
    """The exchange's answer to a placement (immutable). ``success`` is False for rejections (see ``message``).

    ``raw`` (the venue's own response, if any) is informational and does not take part in equality.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PlaceOrderResponse):
            return self[:5] == other[:5]
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:5])


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order the exchange reports as active."""

    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    filled_qty: Decimal
    state: OrderState


@dataclass(frozen=True, slots=True)
class Position:
    """A signed base-asset position (positive long, negative short) and its volume-weighted entry price."""

    symbol: str
    qty: Decimal
    avg_price: Decimal = Decimal(0)


class FillEvent(NamedTuple):
    """One execution (immutable): ``qty`` of the order traded at ``price`` at virtual time ``timestamp_ms``."""

    client_order_id: str
    order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    timestamp_ms: int
    is_maker: bool = True
    fill_id: str = ""

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True, init=False)
class Quote:
    """Top of book for one symbol."""

    symbol: str
    bid: Decimal
    ask: Decimal
    timestamp_ms: int

    def __init__(self, symbol: str, bid: Number, ask: Number, timestamp_ms: int = 0) -> None:
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "bid", to_decimal(bid))
        object.__setattr__(self, "ask", to_decimal(ask))
        object.__setattr__(self, "timestamp_ms", int(timestamp_ms))

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2
