"""The exchange-client protocol every venue adapter implements."""

from __future__ import annotations

from collections.abc import Iterator
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
