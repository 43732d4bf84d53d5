"""The local book of record for orders: ids, legal state transitions, queries, bounded retention.

Only the transitions of the order lifecycle are allowed (an illegal one raises :class:`IllegalTransition`)::

    PENDING -> OPEN | REJECTED | CANCELED
    OPEN -> PARTIALLY_FILLED | FILLED | CANCELED | REJECTED (a venue may reject after acknowledging)
    PARTIALLY_FILLED -> PARTIALLY_FILLED | FILLED | CANCELED

Terminal orders (FILLED, CANCELED, REJECTED) are kept for lookups up to ``retain_terminal`` of them, oldest
evicted first, so memory stays flat in long runs; per-state counters cover every order ever stored.

Fixed point: an order holds its quantity and filled quantity in lots and its price in ticks of its grid
(``qty == lots * lot``, ``price == ticks * tick``); ``Decimal`` values are built only when read. Orders of a
symbol registered with :meth:`InMemoryOrderStore.set_grid` use the symbol's grid; other orders use the grid
their decimals are written on, refined to a finer power of ten if a fill needs it (never rounded). The loop's
integer path is :meth:`InMemoryOrderStore.add_placed` and :meth:`InMemoryOrderStore.fill_lots`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from mypy_extensions import mypyc_attr

from mmexec.engine.models import OrderState, Side
from mmexec.money import MONEY_CONTEXT, plain, precision_of

_S = OrderState
LEGAL_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    _S.PENDING: frozenset({_S.OPEN, _S.REJECTED, _S.CANCELED}),
    _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED}),
    _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED}),
    _S.FILLED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
}
_ZERO = Decimal(0)
_ONE = Decimal(1)
_TERMINAL = frozenset(state for state in OrderState if state.is_terminal)
_FILL_STATES = frozenset({OrderState.PARTIALLY_FILLED, OrderState.FILLED})


@mypyc_attr(native_class=False)  # exceptions stay Python classes when compiled
class OrderStoreError(Exception):
    """Base of the order store's errors (programming errors, not operator input)."""


@mypyc_attr(native_class=False)  # exceptions stay Python classes when compiled
class IllegalTransition(OrderStoreError):
    """A state change the lifecycle does not allow."""


@mypyc_attr(native_class=False)  # exceptions stay Python classes when compiled
class UnknownOrder(OrderStoreError, KeyError):
    """No order with that client order id is held."""


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class StoredOrder:
    """An order as the store knows it. Mutated only through :class:`InMemoryOrderStore`."""

    __slots__ = (
        "client_order_id",
        "created_ms",
        "filled_lots",
        "lot",
        "lots",
        "message",
        "order_id",
        "registered",
        "side",
        "state",
        "symbol",
        "tick",
        "ticks",
        "updated_ms",
    )

    def __init__(self, client_order_id: str, symbol: str, side: Side, qty: Decimal | int, price: Decimal | int,
                 created_ms: int, lot: Decimal | None = None, tick: Decimal | None = None,
                 state: OrderState = OrderState.PENDING, registered: bool = False) -> None:
        """An order of ``qty`` at ``price``: decimals (on the grid they are written on), or with ``lot`` and
        ``tick`` given, whole lots and ticks of that grid (``registered``: its symbol's registered grid)."""
        if lot is None or tick is None:
            lot, tick = _grid_of(Decimal(qty)), _grid_of(Decimal(price))
            qty, price = int(MONEY_CONTEXT.divide(qty, lot)), int(MONEY_CONTEXT.divide(price, tick))
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.side = side
        self.lots = int(qty)
        self.ticks = int(price)
        self.lot = lot
        self.tick = tick
        self.filled_lots = 0
        self.state = state
        self.order_id: str | None = None
        self.created_ms = created_ms
        self.updated_ms = created_ms
        self.message = ""
        self.registered = registered  # on its symbol's registered grid (lots and ticks mean the loop's)

    @property
    def qty(self) -> Decimal:
        return plain(MONEY_CONTEXT.multiply(self.lot, self.lots))

    @property
    def price(self) -> Decimal:
        return plain(MONEY_CONTEXT.multiply(self.tick, self.ticks))

    @property
    def filled_qty(self) -> Decimal:
        return plain(MONEY_CONTEXT.multiply(self.lot, self.filled_lots))

    @filled_qty.setter
    def filled_qty(self, qty: Decimal) -> None:
        """Set the filled quantity of a detached order (e.g. one rebuilt from a journal); the store's own
        orders change only through :meth:`InMemoryOrderStore.fill_order`."""
        if MONEY_CONTEXT.remainder(qty, self.lot):
            self._refine_lot(qty)
            self.registered = False
        self.filled_lots = int(MONEY_CONTEXT.divide(qty, self.lot))

    @property
    def remaining_qty(self) -> Decimal:
        return plain(MONEY_CONTEXT.multiply(self.lot, self.lots - self.filled_lots))

    def _refine_lot(self, qty: Decimal) -> None:
        """Move to a lot fine enough for ``qty`` (a power of ten): the lot counts scale, never round."""
        lot = _ONE.scaleb(-max(precision_of(self.lot), precision_of(qty)))
        scale = int(MONEY_CONTEXT.divide(self.lot, lot))
        self.lots *= scale
        self.filled_lots *= scale
        self.lot = lot

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_order_id": self.client_order_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "price": self.price,
            "filled_qty": self.filled_qty,
            "state": self.state.value,
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
            "message": self.message,
        }

    def __repr__(self) -> str:
        return (f"StoredOrder({self.client_order_id} {self.symbol} {self.side.value} {self.qty}@{self.price} "
                f"filled={self.filled_qty} {self.state.value} order_id={self.order_id})")


def _grid_of(value: Decimal) -> Decimal:
    return _ONE.scaleb(-precision_of(value))


@mypyc_attr(allow_interpreted_subclasses=True)  # unpickled without __init__ (journal checkpoints)
class InMemoryOrderStore:
    """Holds orders by client id, with sequential ``CLI00000001`` ids and an index of active orders."""

    def __init__(self, retain_terminal: int = 10_000, id_prefix: str = "CLI",
                 lookup: Callable[[str], StoredOrder | None] | None = None) -> None:
        """``lookup``: where an order this store no longer holds is found (e.g. the journal: see
        :func:`mmexec.journal.order_store.journaled_order_store`); ``None``: such an order is unknown."""
        if retain_terminal < 0:
            raise ValueError("retain_terminal must be >= 0")
        self._retain = retain_terminal
        self._prefix = id_prefix
        self._seq = 0
        self._id_format = id_prefix.replace("%", "%%") + "%08d"  # CLI00000001, ... (faster than an f-string)
        self._live: dict[str, StoredOrder] = {}  # PENDING, OPEN, PARTIALLY_FILLED
        self._done: dict[str, StoredOrder] = {}  # terminal, oldest first
        self._done_order: deque[str] = deque()  # the keys of _done, oldest first (evicted from the left)
        self._counts: dict[OrderState, int] = dict.fromkeys(OrderState, 0)
        self._grids: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (tick, lot)
        self._position_lots: dict[str, int] = {}  # fills of orders on the symbol's registered grid
        self._position_other: dict[str, Decimal] = {}  # fills of orders on their own grid
        self.lookup = lookup

    # ---------------------------------------------------------------- ids & creation
    def next_client_order_id(self) -> str:
        self._seq += 1
        return self._id_format % self._seq

    def set_grid(self, symbol: str, tick: Decimal, lot: Decimal) -> None:
        """Orders of ``symbol`` on this grid count their quantities in whole lots and prices in ticks (once per
        symbol: another grid for a registered symbol is an error)."""
        if self._grids.get(symbol, (tick, lot)) != (tick, lot):
            raise OrderStoreError(f"{symbol} is registered on another grid ({self._grids[symbol]})")
        self._grids[symbol] = (tick, lot)

    def create(self, symbol: str, side: Side, qty: Decimal, price: Decimal, *, now_ms: int = 0,
               client_order_id: str | None = None) -> StoredOrder:
        """Register a new PENDING order (with the next sequential client id unless one is given)."""
        if client_order_id is None:
            self._seq += 1
            coid = self._id_format % self._seq
        else:
            coid = client_order_id
        if coid in self._live or coid in self._done:
            raise OrderStoreError(f"duplicate client order id {coid}")
        ctx = MONEY_CONTEXT
        registered = self._grids.get(symbol)
        on_grid = registered is not None and not (ctx.remainder(price, registered[0])
                                                  or ctx.remainder(qty, registered[1]))
        tick, lot = registered if registered is not None and on_grid else (_grid_of(price), _grid_of(qty))
        order = StoredOrder(coid, symbol, side, int(ctx.divide(qty, lot)), int(ctx.divide(price, tick)), now_ms, lot,
                            tick, registered=on_grid)
        self._live[coid] = order
        self._counts[OrderState.PENDING] += 1
        return order

    def add_placed(self, client_order_id: str, symbol: str, side: Side, lots: int, ticks: int,
                   order_id: str | None, now_ms: int, message: str = "") -> StoredOrder:
        """Record an order placed on a registered grid in one step: OPEN as ``order_id``, or REJECTED
        (``order_id`` ``None``, ``message`` says why) -- what :meth:`create` and then :meth:`open_order` or
        :meth:`reject_order` record, for the loop's integer path. ``client_order_id`` must be new (e.g.
        :meth:`next_client_order_id`)."""
        tick, lot = self._grids[symbol]
        counts = self._counts
        if order_id is None:
            order = StoredOrder(client_order_id, symbol, side, lots, ticks, now_ms, lot, tick, OrderState.REJECTED,
                                True)
            order.message = message
            counts[OrderState.REJECTED] += 1
            self._live[client_order_id] = order
            self._retire(order)
            return order
        order = StoredOrder(client_order_id, symbol, side, lots, ticks, now_ms, lot, tick, OrderState.OPEN, True)
        order.order_id = order_id
        counts[OrderState.OPEN] += 1
        self._live[client_order_id] = order
        return order

    # ---------------------------------------------------------------- transitions
    def _move(self, order: StoredOrder, new: OrderState, now_ms: int | None) -> None:
        old = order.state
        if new not in LEGAL_TRANSITIONS[old]:
            raise IllegalTransition(f"{order.client_order_id}: {old.value} -> {new.value} is not allowed")
        self._set_state(order, old, new, now_ms)

    def _set_state(self, order: StoredOrder, old: OrderState, new: OrderState, now_ms: int | None) -> None:
        """Record a legal transition ``old -> new`` of ``order``: its state and time, the counters, retirement."""
        order.state = new
        if now_ms is not None:
            order.updated_ms = now_ms
        if new is not old:
            counts = self._counts
            counts[new] += 1
            counts[old] -= 1
        if new in _TERMINAL:
            self._retire(order)

    def _retire(self, order: StoredOrder) -> None:
        coid = order.client_order_id
        del self._live[coid]
        if self._retain:
            self._done[coid] = order
            done_order = self._done_order
            done_order.append(coid)
            if len(done_order) > self._retain:
                del self._done[done_order.popleft()]

    def open_order(self, order: StoredOrder, order_id: str, now_ms: int | None = None) -> StoredOrder:
        """The venue accepted ``order`` as ``order_id``: PENDING -> OPEN."""
        self._move(order, OrderState.OPEN, now_ms)
        order.order_id = order_id
        return order

    def reject_order(self, order: StoredOrder, message: str = "", now_ms: int | None = None) -> StoredOrder:
        """The venue refused ``order`` (``message`` says why): PENDING -> REJECTED, or OPEN -> REJECTED when it
        refuses after acknowledging (a post-only order that would take liquidity when it arrives)."""
        self._move(order, OrderState.REJECTED, now_ms)
        order.message = message
        return order

    def cancel_order(self, order: StoredOrder, now_ms: int | None = None) -> StoredOrder:
        """``order`` was canceled: -> CANCELED (its unfilled remainder is gone)."""
        self._move(order, OrderState.CANCELED, now_ms)
        return order

    def fill_order(self, order: StoredOrder, qty: Decimal, now_ms: int | None = None) -> StoredOrder:
        """Add a fill increment; the order becomes FILLED exactly when filled qty equals its qty.

        A fill of a CANCELED order that was open on the venue (the fill raced the cancel) counts too: the
        order stays CANCELED, its filled quantity and the position grow.
        """
        if qty <= 0:
            raise OrderStoreError(f"{order.client_order_id}: fill quantity must be positive, got {qty}")
        if MONEY_CONTEXT.remainder(qty, order.lot):
            if order.registered:  # leaves the symbol's grid
                self._position_lots[order.symbol] = self._position_lots.get(order.symbol, 0) - order.filled_lots
                self._add_other(order.symbol, order.filled_qty)
                order.registered = False
            order._refine_lot(qty)
        return self.fill_lots(order, int(MONEY_CONTEXT.divide(qty, order.lot)), now_ms)

    def fill_lots(self, order: StoredOrder, lots: int, now_ms: int | None = None) -> StoredOrder:
        """:meth:`fill_order` of ``lots`` of the order's own lot."""
        filled = order.filled_lots + lots
        if lots <= 0 or filled > order.lots:
            what = "fill quantity must be positive" if lots <= 0 else "overfill"
            raise OrderStoreError(f"{order.client_order_id}: {what} ({lots} lots of {order.lot}, "
                                  f"{order.filled_lots} of {order.lots} filled)")
        old = order.state
        if old is _S.CANCELED and order.order_id is not None:  # was live on the venue
            if now_ms is not None:
                order.updated_ms = now_ms
        elif old is _S.OPEN or old is _S.PARTIALLY_FILLED:  # legal fill transitions, without _move's lookup
            self._set_state(order, old, _S.FILLED if filled == order.lots else _S.PARTIALLY_FILLED, now_ms)
        else:
            self._move(order, _S.FILLED if filled == order.lots else _S.PARTIALLY_FILLED, now_ms)  # raises
        order.filled_lots = filled
        sym = order.symbol
        signed = lots if order.side is Side.BUY else -lots
        if order.registered:
            self._position_lots[sym] = self._position_lots.get(sym, 0) + signed
        else:
            self._add_other(sym, MONEY_CONTEXT.multiply(order.lot, signed))
        return order

    def _add_other(self, symbol: str, qty: Decimal) -> None:
        self._position_other[symbol] = MONEY_CONTEXT.add(self._position_other.get(symbol, _ZERO), qty)

    def move(self, order: StoredOrder, new_state: OrderState, now_ms: int | None = None) -> StoredOrder:
        """Generic state change (validated against :data:`LEGAL_TRANSITIONS`).

        Fill states are reached only through :meth:`fill_order`, so that state, filled quantity and
        positions can never disagree.
        """
        new = OrderState(new_state)
        if new in _FILL_STATES:
            how = "happens only through apply_fill()" if new in LEGAL_TRANSITIONS[order.state] else "is not allowed"
            raise IllegalTransition(f"{order.client_order_id}: {order.state.value} -> {new.value} {how}")
        self._move(order, new, now_ms)
        return order

    # ---------------------------------------------------------------- queries
    def get(self, client_order_id: str) -> StoredOrder | None:
        order = self._live.get(client_order_id) or self._done.get(client_order_id)
        if order is None and self.lookup is not None:
            order = self.lookup(client_order_id)
        return order

    def require(self, client_order_id: str) -> StoredOrder:
        order = self.get(client_order_id)
        if order is None:
            raise UnknownOrder(client_order_id)
        return order

    def get_by_exchange_id(self, order_id: str) -> StoredOrder | None:
        """The order the venue knows as ``order_id`` (a scan of the orders held: a query, not the hot path)."""
        return next((o for o in self.orders() if o.order_id == order_id), None)

    def get_by_state(self, state: OrderState) -> list[StoredOrder]:
        state = OrderState(state)
        source = self._done.values() if state.is_terminal else self._live.values()
        return [o for o in source if o.state is state]

    def get_by_symbol(self, symbol: str) -> list[StoredOrder]:
        return [o for o in self.orders() if o.symbol == symbol]

    def get_open_orders(self, symbol: str | None = None) -> list[StoredOrder]:
        """Active orders (OPEN or PARTIALLY_FILLED), optionally for one symbol, in creation order."""
        return [o for o in self._live.values() if o.state.is_active and (symbol is None or o.symbol == symbol)]

    def orders(self) -> Iterator[StoredOrder]:
        """Every order still held: retained terminal ones first (oldest first), then live ones."""
        yield from self._done.values()
        yield from self._live.values()

    def get_positions(self) -> dict[str, Decimal]:
        """Signed base quantity per symbol: the exact sum of every fill increment applied."""
        out: dict[str, Decimal] = {}
        for symbol in [*self._position_lots, *(s for s in self._position_other if s not in self._position_lots)]:
            lots = self._position_lots.get(symbol, 0)
            qty = MONEY_CONTEXT.multiply(self._grids[symbol][1], lots) if lots else _ZERO
            out[symbol] = plain(MONEY_CONTEXT.add(qty, self._position_other.get(symbol, _ZERO)))
        return out

    def counts(self) -> dict[str, int]:
        """Orders currently in each state, over every order ever stored (eviction does not change them)."""
        return {state.value: n for state, n in self._counts.items()}

    @property
    def total_created(self) -> int:
        return sum(self._counts.values())

    def __len__(self) -> int:
        return len(self._live) + len(self._done)

    def export(self) -> dict[str, Any]:
        """Everything held, for reports and debugging (Decimals intact)."""
        return {
            "counts": self.counts(),
            "orders": [o.to_dict() for o in self.orders()],
            "positions": self.get_positions(),
            "retained_terminal": len(self._done),
            "retain_terminal_limit": self._retain,
        }
