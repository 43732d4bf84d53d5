"""BybitRestClient: the Bybit V5 dry-run client as an :class:`~mmexec.exchanges.base.IExchangeClient`.

Every engine call becomes the V5 request Bybit would receive, built and signed by
:class:`~mmexec.exchanges.bybit.api.BybitV5Client`; the V5 answers are adapted to the engine's models here:

- :meth:`place_limit` -> ``POST /v5/order/create`` (``Limit``, ``PostOnly`` by default, ``orderLinkId`` = the
  client order id). A non-zero ``retCode`` (validation, rate limit) is an unsuccessful response whose message
  reads ``retCode 10006: Too many visits!``; nothing is placed.
- :meth:`cancel` -> ``POST /v5/order/cancel`` (with the symbol the client remembers for the order).
- :meth:`get_open_orders` / :meth:`get_positions` -> ``GET /v5/order/realtime`` / ``/v5/position/list``,
  every page (a refusal raises :class:`~mmexec.exchanges.bybit.api.BybitApiError`).
- :meth:`stream_fills` -> the private ``execution`` stream: fills whose virtual time has come.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from mmexec.engine.models import FillEvent, OpenOrder, OrderState, PlaceOrderRequest, PlaceOrderResponse, Position
from mmexec.exchanges.base import ExecutionTotals
from mmexec.exchanges.bybit import envelopes as v5
from mmexec.exchanges.bybit.api import BybitApiError, BybitV5Client

__all__ = ["BybitApiError", "BybitRestClient"]

_PAGE_LIMIT = 50


class BybitRestClient(BybitV5Client):
    """Bybit V5 in dry-run behind the engine's exchange protocol (see the module docstring).

    Constructor: :class:`~mmexec.exchanges.bybit.api.BybitV5Client` (the original API's ``secret_provider``,
    ``api_env``, ``network_enabled``, ``fill_rate``, ``fill_latency_ms``, ``seed``, plus rate limit and clock).
    Orders go out with ``timeInForce=time_in_force`` (``PostOnly``: a market maker's quotes never take).
    """

    # ---------------------------------------------------------------- orders
    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        response = self.create_order(
            symbol=req.symbol,
            side=v5.SIDE_TO_V5[req.side],
            orderType="Limit",
            qty=v5.num(req.qty),
            price=v5.num(req.price),
            timeInForce=self.time_in_force,
            orderLinkId=req.client_order_id,
            positionIdx=0,
        )
        if response["retCode"] != v5.RET_OK:
            return PlaceOrderResponse(False, req.client_order_id, None, OrderState.REJECTED, v5.describe(response),
                                      raw=response)
        order_id = str(response["result"]["orderId"])
        return PlaceOrderResponse(True, req.client_order_id, order_id, OrderState.OPEN, "", raw=response)

    def cancel(self, order_id: str) -> bool:
        """Cancel an active order placed by this client; False if unknown, already done, or refused."""
        symbol = self.symbol_of(order_id)
        if symbol is None:
            return False
        return bool(self.cancel_order(symbol=symbol, orderId=order_id)["retCode"] == v5.RET_OK)

    # ---------------------------------------------------------------- queries
    def _all_pages(self, fetch: Callable[..., dict[str, Any]], **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            response = fetch(limit=_PAGE_LIMIT, cursor=cursor, **params)
            if response["retCode"] != v5.RET_OK:
                raise BybitApiError(response)
            items.extend(response["result"]["list"])
            cursor = response["result"].get("nextPageCursor") or None
            if cursor is None:
                return items

    def _scope(self, symbol: str | None) -> dict[str, Any]:
        return {"symbol": symbol} if symbol is not None else {"settleCoin": self.settle_coin}

    def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Active orders (of ``symbol``, else of every symbol settled in ``settle_coin``)."""
        return [
            OpenOrder(
                order_id=item["orderId"],
                client_order_id=item["orderLinkId"],
                symbol=item["symbol"],
                side=v5.V5_TO_SIDE[item["side"]],
                qty=Decimal(item["qty"]),
                price=Decimal(item["price"]),
                filled_qty=Decimal(item["cumExecQty"]),
                state=v5.STATUS_TO_STATE[item["orderStatus"]],
            )
            for item in self._all_pages(self.get_open_orders_v5, openOnly=0, **self._scope(symbol))
        ]

    def get_positions(self) -> list[Position]:
        """Open positions settled in ``settle_coin``, signed (``Sell`` is negative), by symbol."""
        positions = []
        for item in self._all_pages(self.get_positions_v5, settleCoin=self.settle_coin):
            size = Decimal(item["size"])
            positions.append(Position(item["symbol"], -size if item["side"] == "Sell" else size,
                                      Decimal(item["avgPrice"])))
        return sorted(positions, key=lambda p: p.symbol)

    # ---------------------------------------------------------------- fills
    def stream_fills(self) -> Iterator[FillEvent]:
        """Fills whose virtual time has come, oldest first, from the execution stream."""
        for message in self.poll_execution_stream():
            for item in message["data"]:
                yield FillEvent(
                    client_order_id=item["orderLinkId"],
                    order_id=item["orderId"],
                    symbol=item["symbol"],
                    side=v5.V5_TO_SIDE[item["side"]],
                    qty=Decimal(item["execQty"]),
                    price=Decimal(item["execPrice"]),
                    timestamp_ms=int(item["execTime"]),
                    is_maker=bool(item["isMaker"]),
                    fill_id=item["execId"],
                )

    def execution_totals(self) -> dict[str, ExecutionTotals]:
        """What the venue reported executed, per symbol (from the execution stream), for reconciliation."""
        return dict(self.stream_totals)

    def next_fill_ms(self) -> int | None:
        """Virtual time of the next fill the stream will release (a simulation hint for the loop)."""
        return self.venue.next_event_ms()

    def pending_fill_count(self) -> int:
        return self.venue.pending_fills()
