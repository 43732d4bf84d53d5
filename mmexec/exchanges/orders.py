"""The order record the simulated venues keep (the fake exchange, the Bybit dry-run, the queue venue).

Fixed point, like the order store's :class:`~mmexec.engine.order_store.StoredOrder`: an order is ``lots`` at
``ticks`` of a grid (``qty == lots * lot``, ``price == ticks * tick``) with ``filled`` lots executed. Each venue
adds what only it tracks in a subclass (its grid object, queue position, V5 fields); the grid's sizes are passed
where a :class:`~mmexec.engine.models.OpenOrder` is built, so the record stays small on the hot path.
"""

from __future__ import annotations

from decimal import Decimal

from mypy_extensions import mypyc_attr

from mmexec.engine.models import OpenOrder, OrderState, Side

_BUY, _SELL = Side.BUY, Side.SELL


# compiled: picklable (see docs/performance.md), and the Bybit dry-run venue subclasses it
@mypyc_attr(allow_interpreted_subclasses=True)
class VenueOrder:
    """One order as a venue holds it: ``lots`` at ``ticks``, ``filled`` lots of it executed so far."""

    __slots__ = ("client_order_id", "filled", "is_buy", "lots", "order_id", "symbol", "ticks")

    def __init__(self, order_id: str, client_order_id: str, symbol: str, is_buy: bool, lots: int,
                 ticks: int) -> None:
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.is_buy = is_buy
        self.lots = lots
        self.ticks = ticks
        self.filled = 0

    @property
    def side(self) -> Side:
        return _BUY if self.is_buy else _SELL

    @property
    def leaves(self) -> int:
        """Lots not executed yet."""
        return self.lots - self.filled

    def open_order(self, tick: Decimal, lot: Decimal) -> OpenOrder:
        """The order as the venue reports an active one (OPEN, or PARTIALLY_FILLED once a fill came)."""
        return OpenOrder(self.order_id, self.client_order_id, self.symbol, self.side, self.lots * lot,
                         self.ticks * tick, self.filled * lot,
                         OrderState.PARTIALLY_FILLED if self.filled else OrderState.OPEN)
