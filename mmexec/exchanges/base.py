"""The exchange-client protocol every venue adapter implements."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol, runtime_checkable

from mmexec.engine.models import FillEvent, OpenOrder, PlaceOrderRequest, PlaceOrderResponse, Position


@runtime_checkable
class IExchangeClient(Protocol):
    """What the execution loop needs from a venue.

    ``stream_fills`` yields the fills whose (virtual) time has come and returns when there are none left;
    call it again later for more.
    """

    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse: ...

    def cancel(self, order_id: str) -> bool: ...

    def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]: ...

    def get_positions(self) -> list[Position]: ...

    def stream_fills(self) -> Iterator[FillEvent]: ...


class ExecutionTotals:
    """What a venue executed for one symbol, as sums (memory stays flat however many fills).

    Optional venue extension ``execution_totals() -> dict[str, ExecutionTotals]``, used by reconciliation.
    """

    __slots__ = ("bought", "fills", "maker_notional", "sold", "taker_notional")

    def __init__(self) -> None:
        self.fills = 0
        self.bought = Decimal(0)
        self.sold = Decimal(0)
        self.maker_notional = Decimal(0)
        self.taker_notional = Decimal(0)

    def add(self, is_buy: bool, qty: Decimal, price: Decimal, is_maker: bool) -> None:
        self.fills += 1
        if is_buy:
            self.bought += qty
        else:
            self.sold += qty
        if is_maker:
            self.maker_notional += qty * price
        else:
            self.taker_notional += qty * price

    @property
    def net_qty(self) -> Decimal:
        return self.bought - self.sold
