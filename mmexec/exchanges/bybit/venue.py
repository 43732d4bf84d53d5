"""DryRunVenue: what Bybit's V5 order endpoints would do, simulated locally on virtual time.

It sees only what would arrive on the wire (the decoded parameters of a request) and answers with V5
``result`` objects or a refusal code, the way the real API validates:

- ``orderLinkId``: at most 36 characters of ``[A-Za-z0-9_-]`` (else 10001), never used before on this
  account (else 110072); ``qty`` and ``price`` positive numbers in text (else 10001); unknown ``category``,
  ``side``, ``orderType`` or ``timeInForce`` 10001; cancel of an order that is not active 110001.
- A placed order rests (``New``). Its fate comes from (seed, orderLinkId) alone
  (:func:`~mmexec.exchanges.outcomes.order_uniforms`): it fills at its limit price ``fill_latency_ms`` after
  placement with probability ``fill_rate`` (in two parts with probability ``partial_fill_rate``), as maker.
- Executions happen in venue time: :meth:`DryRunVenue.settle` applies every fill whose time has come before
  anything else is answered, and queues it for the private execution stream (:meth:`drain_executions`).

Limit orders only (``GTC`` or ``PostOnly``; the dry-run has no order book to cross), category ``linear``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mmexec.accounting.pnl import PnlTracker
from mmexec.engine.models import FillEvent, OrderState, Side
from mmexec.exchanges.bybit import envelopes as v5
from mmexec.exchanges.orders import VenueOrder
from mmexec.exchanges.outcomes import order_uniforms
from mmexec.exchanges.scheduling import FillScheduler, first_part_quarters, plan_fill_lots
from mmexec.money import MONEY_CONTEXT, precision_of

ORDER_LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")
SYMBOL = re.compile(r"[A-Z0-9]{2,30}")
TIME_IN_FORCE = frozenset({"GTC", "PostOnly"})
CLOSED_ORDERS_KEPT = 500  # /v5/order/realtime with openOnly=1 returns at most the recent 500 closed orders
EXECUTIONS_KEPT = 10_000
_WIRE_QUANTUM = Decimal("1E-10")  # derived values (average prices, pnl) are written to 10 decimal places
_ZERO = Decimal(0)
_ONE = Decimal(1)

Params = Mapping[str, Any]


class Refusal(Exception):
    """The venue refuses a request: a V5 ``retCode`` and an optional detail for ``retMsg``."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def _text(params: Params, key: str, *, required: bool = True) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise Refusal(v5.PARAMS_ERROR, f"{key} is required")
        return None
    if not isinstance(value, str):
        raise Refusal(v5.PARAMS_ERROR, f"{key} must be a string")
    return value


def _positive(params: Params, key: str) -> Decimal:
    raw = _text(params, key)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise Refusal(v5.PARAMS_ERROR, f"{key} must be a number") from None
    if not value.is_finite() or value <= 0:
        raise Refusal(v5.PARAMS_ERROR, f"{key} must be positive")
    return value


def _int(params: Params, key: str, default: int, low: int, high: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise Refusal(v5.PARAMS_ERROR, f"{key} must be an integer") from None
    if not low <= value <= high:
        raise Refusal(v5.PARAMS_ERROR, f"{key} must be within [{low}, {high}]")
    return value


def _page(items: list[dict[str, Any]], params: Params, default: int, high: int) -> tuple[list[dict[str, Any]], str]:
    """One page of ``items`` by ``limit`` and ``cursor``; the next cursor ("" on the last page)."""
    limit = _int(params, "limit", default, 1, high)
    offset = _int(params, "cursor", 0, 0, len(items))
    end = offset + limit
    return items[offset:end], (str(end) if end < len(items) else "")


def _wire(value: Decimal) -> str:
    return v5.num(value.quantize(_WIRE_QUANTUM))


class _Order(VenueOrder):
    """One order as the venue holds it: lots and ticks of the grid its own ``qty`` and ``price`` are written on
    (the lot two places finer, so that quarters of it are whole lots), with its V5 fields."""

    __slots__ = ("cancel_type", "created_ms", "lot", "state", "tick", "time_in_force", "updated_ms")

    def __init__(self, order_id: str, link_id: str, symbol: str, side: Side, qty: Decimal, price: Decimal,
                 time_in_force: str, now_ms: int) -> None:
        lot, tick = _ONE.scaleb(-precision_of(qty) - 2), _ONE.scaleb(-precision_of(price))
        VenueOrder.__init__(self, order_id, link_id, symbol, side is Side.BUY,
                            int(MONEY_CONTEXT.divide(qty, lot)), int(MONEY_CONTEXT.divide(price, tick)))
        self.lot = lot
        self.tick = tick
        self.time_in_force = time_in_force
        self.state = OrderState.OPEN
        self.cancel_type = "UNKNOWN"
        self.created_ms = now_ms
        self.updated_ms = now_ms

    @property
    def link_id(self) -> str:
        return self.client_order_id

    @property
    def qty(self) -> Decimal:
        return MONEY_CONTEXT.multiply(self.lot, self.lots)

    @property
    def price(self) -> Decimal:
        return MONEY_CONTEXT.multiply(self.tick, self.ticks)

    @property
    def cum_qty(self) -> Decimal:
        return MONEY_CONTEXT.multiply(self.lot, self.filled)

    def to_v5(self) -> dict[str, Any]:
        """A ``/v5/order/realtime`` list item."""
        leaves = self.leaves * self.lot if self.state.is_active else _ZERO
        price = self.price
        return {
            "orderId": self.order_id,
            "orderLinkId": self.link_id,
            "blockTradeId": "",
            "symbol": self.symbol,
            "price": v5.num(price),
            "qty": v5.num(self.qty),
            "side": v5.SIDE_TO_V5[self.side],
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": v5.ORDER_STATUS[self.state],
            "cancelType": self.cancel_type,
            "rejectReason": "EC_NoError",
            "avgPrice": _wire(price) if self.filled else "0",  # every execution is at the order's price
            "leavesQty": v5.num(leaves),
            "leavesValue": v5.num(leaves * price),
            "cumExecQty": v5.num(self.cum_qty),
            "cumExecValue": v5.num(self.cum_qty * price),
            "cumExecFee": "0",
            "timeInForce": self.time_in_force,
            "orderType": "Limit",
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "triggerDirection": 0,
            "reduceOnly": False,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": v5.ms(self.created_ms),
            "updatedTime": v5.ms(self.updated_ms),
        }


class DryRunVenue:
    """The simulated server side of the V5 order, position and execution endpoints."""

    def __init__(
        self,
        *,
        fill_rate: float,
        fill_latency_ms: int,
        seed: int,
        partial_fill_rate: float = 0.0,
        category: str = "linear",
    ) -> None:
        self.fill_rate = fill_rate
        self.partial_fill_rate = partial_fill_rate
        self.fill_latency_ms = fill_latency_ms
        self.seed = seed
        self.category = category
        self._active: dict[str, _Order] = {}
        self._active_by_link: dict[str, str] = {}
        self._used_link_ids: set[str] = set()
        self._closed: deque[_Order] = deque(maxlen=CLOSED_ORDERS_KEPT)
        self._executions: deque[dict[str, Any]] = deque(maxlen=EXECUTIONS_KEPT)
        self._outbox: deque[dict[str, Any]] = deque()  # executions not yet taken from the stream
        self._fills: FillScheduler[int] = FillScheduler()  # whole lots of each order
        self._pnl = PnlTracker()
        self._position_times: dict[str, tuple[int, int]] = {}
        self._marks: dict[str, Decimal] = {}  # last execution price per symbol
        self._order_seq = 0
        self._exec_seq = 0
        self.routes: dict[str, Callable[[Params, int], dict[str, Any]]] = {
            "POST /v5/order/create": self.create_order,
            "POST /v5/order/cancel": self.cancel_order,
            "GET /v5/order/realtime": self.open_orders,
            "GET /v5/position/list": self.positions,
            "GET /v5/execution/list": self.executions,
        }

    # ---------------------------------------------------------------- dispatch
    def handle(self, endpoint: str, params: Params, now_ms: int) -> dict[str, Any]:
        """Answer one request (a V5 ``result``) or raise :class:`Refusal`; due fills are applied first."""
        route = self.routes.get(endpoint)
        if route is None:
            raise Refusal(v5.PARAMS_ERROR, f"{endpoint} is not simulated")
        self.settle(now_ms)
        return route(params, now_ms)

    def _category(self, params: Params) -> str:
        category = _text(params, "category")
        if category != self.category:
            raise Refusal(v5.PARAMS_ERROR, f"category must be {self.category}")
        return category

    @staticmethod
    def _symbol(params: Params, *, required: bool = True) -> str | None:
        symbol = _text(params, "symbol", required=required)
        if symbol is not None and not SYMBOL.fullmatch(symbol):
            raise Refusal(v5.PARAMS_ERROR, "symbol invalid")
        return symbol

    # ---------------------------------------------------------------- POST /v5/order/create
    def create_order(self, params: Params, now_ms: int) -> dict[str, Any]:
        self._category(params)
        symbol = self._symbol(params)
        side = v5.V5_TO_SIDE.get(str(params.get("side")))
        if side is None:
            raise Refusal(v5.PARAMS_ERROR, "side must be Buy or Sell")
        if params.get("orderType") != "Limit":
            raise Refusal(v5.PARAMS_ERROR, "orderType must be Limit (the dry-run simulates limit orders only)")
        qty = _positive(params, "qty")
        price = _positive(params, "price")
        tif = params.get("timeInForce") or "GTC"
        if tif not in TIME_IN_FORCE:
            raise Refusal(v5.PARAMS_ERROR, "timeInForce must be GTC or PostOnly in the dry-run")
        link_id = _text(params, "orderLinkId", required=False)
        if link_id is not None:
            if not ORDER_LINK_ID.fullmatch(link_id):
                raise Refusal(v5.PARAMS_ERROR, "orderLinkId must be at most 36 characters of A-Z a-z 0-9 _ -")
            if link_id in self._used_link_ids:
                raise Refusal(v5.DUPLICATE_ORDER_LINK_ID)
            self._used_link_ids.add(link_id)
        self._order_seq += 1
        order_id = f"ORD{self._order_seq:06d}"
        order = _Order(order_id, link_id or "", str(symbol), side, qty, price, str(tif), now_ms)
        self._active[order_id] = order
        if link_id:
            self._active_by_link[link_id] = order_id
        _, u_fill, u_partial, u_fraction = order_uniforms(self.seed, link_id or order_id)
        quarters = first_part_quarters(u_fill=u_fill, u_partial=u_partial, u_fraction=u_fraction,
                                       fill_rate=self.fill_rate, partial_fill_rate=self.partial_fill_rate)
        for due, lots in plan_fill_lots(order.lots, now_ms, self.fill_latency_ms, quarters):
            self._fills.schedule(due, order_id, lots)
        return {"orderId": order_id, "orderLinkId": order.link_id}

    # ---------------------------------------------------------------- POST /v5/order/cancel
    def cancel_order(self, params: Params, now_ms: int) -> dict[str, Any]:
        self._category(params)
        symbol = self._symbol(params)
        order_id = _text(params, "orderId", required=False)
        link_id = _text(params, "orderLinkId", required=False)
        if order_id is None and link_id is None:
            raise Refusal(v5.PARAMS_ERROR, "orderId or orderLinkId is required")
        if order_id is None and link_id is not None:
            order_id = self._active_by_link.get(link_id)
        order = self._active.get(order_id or "")
        if order is None or order.symbol != symbol or (link_id is not None and order.link_id != link_id):
            raise Refusal(v5.ORDER_NOT_EXISTS)
        self._fills.discard(order.order_id)
        order.state = OrderState.CANCELED
        order.cancel_type = "CancelByUser"
        order.updated_ms = now_ms
        self._close(order)
        return {"orderId": order.order_id, "orderLinkId": order.link_id}

    def _close(self, order: _Order) -> None:
        del self._active[order.order_id]
        if order.link_id:
            self._active_by_link.pop(order.link_id, None)
        self._closed.append(order)

    # ---------------------------------------------------------------- GET /v5/order/realtime
    def open_orders(self, params: Params, now_ms: int) -> dict[str, Any]:
        category = self._category(params)
        symbol = self._symbol(params, required=False)
        settle_coin = _text(params, "settleCoin", required=False)
        if symbol is None and settle_coin is None:
            raise Refusal(v5.PARAMS_ERROR, "symbol or settleCoin is required")
        order_id = _text(params, "orderId", required=False)
        link_id = _text(params, "orderLinkId", required=False)
        open_only = _int(params, "openOnly", 0, 0, 2)
        source = self._active.values() if open_only == 0 else reversed(self._closed)
        items = [
            o.to_v5() for o in source
            if (o.symbol == symbol if symbol is not None else o.symbol.endswith(str(settle_coin)))
            and (order_id is None or o.order_id == order_id) and (link_id is None or o.link_id == link_id)
        ]
        page, cursor = _page(items, params, 20, 50)
        return {"category": category, "nextPageCursor": cursor, "list": page}

    # ---------------------------------------------------------------- GET /v5/position/list
    def positions(self, params: Params, now_ms: int) -> dict[str, Any]:
        category = self._category(params)
        symbol = self._symbol(params, required=False)
        settle_coin = _text(params, "settleCoin", required=False)
        if symbol is None and settle_coin is None:
            raise Refusal(v5.PARAMS_ERROR, "symbol or settleCoin is required")
        if symbol is not None:
            symbols = [symbol]  # a named symbol is answered even when flat
        else:
            symbols = [s for s in self._pnl.symbols()
                       if s.endswith(str(settle_coin)) and self._pnl.position(s).qty != 0]
        page, cursor = _page([self._position_item(s) for s in symbols], params, 20, 200)
        return {"category": category, "nextPageCursor": cursor, "list": page}

    def _position_item(self, symbol: str) -> dict[str, Any]:
        position = self._pnl.position(symbol)
        qty, avg = position.qty, position.avg_price.quantize(_WIRE_QUANTUM)
        created, updated = self._position_times.get(symbol, (0, 0))
        mark = self._marks.get(symbol, _ZERO)
        return {
            "positionIdx": 0,
            "symbol": symbol,
            "side": "" if qty == 0 else v5.SIDE_TO_V5[Side.BUY if qty > 0 else Side.SELL],
            "size": v5.num(abs(qty)),
            "avgPrice": v5.num(avg),
            "positionValue": v5.num(abs(qty) * avg),
            "markPrice": v5.num(mark),
            "unrealisedPnl": _wire(qty * (mark - avg)),
            "cumRealisedPnl": _wire(self._pnl.realized(symbol)),
            "positionStatus": "Normal",
            "tradeMode": 0,
            "createdTime": v5.ms(created),
            "updatedTime": v5.ms(updated),
        }

    # ---------------------------------------------------------------- GET /v5/execution/list
    def executions(self, params: Params, now_ms: int) -> dict[str, Any]:
        category = self._category(params)
        symbol = self._symbol(params, required=False)
        order_id = _text(params, "orderId", required=False)
        link_id = _text(params, "orderLinkId", required=False)
        items = [
            e for e in reversed(self._executions)
            if (symbol is None or e["symbol"] == symbol) and (order_id is None or e["orderId"] == order_id)
            and (link_id is None or e["orderLinkId"] == link_id)
        ]
        page, cursor = _page(items, params, 50, 100)
        return {"category": category, "nextPageCursor": cursor, "list": page}

    # ---------------------------------------------------------------- matching
    def settle(self, now_ms: int) -> None:
        """Execute every scheduled fill due at or before ``now_ms`` (in time order)."""
        for due, order_id, lots in self._fills.pop_due(now_ms):
            self._execute(self._active[order_id], lots, due)

    def _execute(self, order: _Order, lots: int, when_ms: int) -> None:
        order.filled += lots
        order.updated_ms = when_ms
        filled = order.filled == order.lots
        qty, price = lots * order.lot, order.price
        order.state = OrderState.FILLED if filled else OrderState.PARTIALLY_FILLED
        self._exec_seq += 1
        exec_id = f"EXE{self._exec_seq:08d}"
        execution: dict[str, Any] = {
            "category": self.category,
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderLinkId": order.link_id,
            "side": v5.SIDE_TO_V5[order.side],
            "orderPrice": v5.num(price),
            "orderQty": v5.num(order.qty),
            "leavesQty": v5.num(order.leaves * order.lot),
            "orderType": "Limit",
            "stopOrderType": "",
            "execFee": "0",
            "execId": exec_id,
            "execPrice": v5.num(price),
            "execQty": v5.num(qty),
            "execType": "Trade",
            "execValue": v5.num(qty * price),
            "execTime": v5.ms(when_ms),
            "feeRate": "0",
            "isMaker": True,
            "seq": self._exec_seq,
        }
        self._pnl.on_fill(FillEvent(order.link_id, order.order_id, order.symbol, order.side, qty, price,
                                    when_ms, True, exec_id))
        self._marks[order.symbol] = price
        created, _ = self._position_times.get(order.symbol, (when_ms, when_ms))
        self._position_times[order.symbol] = (created, when_ms)
        self._executions.append(execution)
        self._outbox.append(execution)
        if filled:
            self._close(order)

    def drain_executions(self, now_ms: int) -> list[dict[str, Any]]:
        """Executions up to ``now_ms`` not yet taken from the private stream, oldest first."""
        self.settle(now_ms)
        out = list(self._outbox)
        self._outbox.clear()
        return out

    def next_event_ms(self) -> int | None:
        """When the stream next has something: the oldest undelivered execution, else the next due fill."""
        if self._outbox:
            return int(self._outbox[0]["execTime"])
        return self._fills.next_due_ms()

    def pending_fills(self) -> int:
        return self._fills.pending()

    @property
    def executions_total(self) -> int:
        return self._exec_seq
