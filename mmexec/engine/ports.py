"""The ports the engine drives: adapters implement them, the engine never imports an adapter.

- :class:`Venue` (alias ``IExchangeClient``): where orders go and fills come from (the fake exchange, the Bybit
  dry-run client, a queue venue over recorded data, ...). Optional extensions are duck-typed: ``next_fill_ms()``
  (earliest scheduled fill, to skip idle polls), ``execution_totals()`` (for reconciliation),
  ``report_section()`` (a venue section of the run report).
- :class:`TickVenue`: an optional extension of :class:`Venue` for venues that keep orders on an integer grid
  (the fake exchange): the loop registers each instrument's grid (``set_grid``), places orders as integer ticks
  and lots (``place_ticks``) and takes fills as plain tuples (``stream_fill_ticks``), so its hot path builds no
  ``Decimal``, request or ``FillEvent``. A venue without it is driven through :class:`Venue` alone.
- :class:`MarketSource`: the instruments a run trades (tick and lot grid, quote size); a stepped source
  (:class:`SteppedMarket`, e.g. the synthetic walk) also yields ``(bid_ticks, ask_ticks, edge_bps)`` per step.
  Event-driven sources (recorded captures, live feeds) call :meth:`ExecutionLoop.quote` themselves.
- :data:`FillListener`: called with every fill the loop applies, as a ``FillEvent`` (fills file, markouts, ...).
- :class:`TickFillListener`: a fill listener that sums integers (the fee ledger, PnL): it learns each
  instrument's grid and gets fills as ``(symbol, is_buy, lots, ticks, is_maker, timestamp_ms)``; from a venue
  without the tick extension it gets the ``FillEvent`` instead. Register with
  :meth:`ExecutionLoop.add_tick_listener` (the fee ledger, PnL and the timeline recorder are registered so).
- :class:`JournalHook`: observes every order event and fill, and each step (a checkpoint opportunity).
- :class:`TickJournalHook`: an optional extension of :class:`JournalHook` (duck-typed: ``on_order_ticks`` /
  ``on_fill_ticks``): order events and fills of orders on their symbol's registered grid arrive as plain
  ints and strs (quantities in lots, prices in ticks), so a journaled run builds no event object per row.
- :data:`StepHook`: called after each step with the virtual time (e.g. a timeline sampler); it may return the
  time it next needs a call, and the loop skips the calls before it.
- :data:`RiskListener`: told about freezes and unfreezes (:class:`RiskNotice`); the CLI prints its notice
  from it, the engine prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from mmexec.engine.models import FillEvent, OpenOrder, OrderState, PlaceOrderRequest, PlaceOrderResponse, Position, Side

if TYPE_CHECKING:
    from mmexec.engine.market import Instrument

_ZERO = Decimal(0)
_ONE = Decimal(1)


@runtime_checkable
class Venue(Protocol):
    """What the execution loop needs from a venue.

    ``stream_fills`` yields the fills whose (virtual) time has come and returns when there are none left;
    call it again later for more.
    """

    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse: ...

    def cancel(self, order_id: str) -> bool: ...

    def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]: ...

    def get_positions(self) -> list[Position]: ...

    def stream_fills(self) -> Iterator[FillEvent]: ...


IExchangeClient = Venue  # the README's name for the venue port

TickFill = tuple[str, int, int, int, bool, str]  # client order id, lots, ticks, timestamp ms, is maker, fill id


@runtime_checkable
class TickVenue(Venue, Protocol):
    """Optional extension of :class:`Venue`: orders and fills in integer ticks and lots of a registered grid.

    ``set_grid`` is called once per instrument before its first order. ``place_ticks`` places ``lots`` at
    ``ticks`` and returns the venue's order id, or ``None`` when the order is rejected (the reason in
    ``last_reject_message``). ``stream_fill_ticks`` is :meth:`Venue.stream_fills` as :data:`TickFill` tuples
    (quantity in lots, price in ticks of the symbol's grid). The :class:`Venue` methods keep working beside it.
    """

    last_reject_message: str

    def set_grid(self, symbol: str, tick_size: Decimal, lot_size: Decimal) -> None: ...

    def place_ticks(self, client_order_id: str, symbol: str, is_buy: bool, lots: int, ticks: int) -> str | None: ...

    def stream_fill_ticks(self) -> Iterator[TickFill]: ...


class MarketSource(Protocol):
    """Where a run's instruments (and, for a stepped source, its quotes) come from."""

    @property
    def instruments(self) -> Mapping[str, Instrument]: ...


class SteppedMarket(MarketSource, Protocol):
    """A market source the loop steps itself (the synthetic walk)."""

    def walk(self, symbol: str) -> Callable[[], tuple[int, int, float]]: ...


FillListener = Callable[[FillEvent], object]  # return values are ignored


class TickFillListener(Protocol):
    """A fill listener on integers (see the module docstring); return values are ignored."""

    def set_grid(self, symbol: str, tick_size: Decimal, lot_size: Decimal) -> object: ...

    def on_ticks(self, symbol: str, is_buy: bool, lots: int, ticks: int, is_maker: bool,
                 timestamp_ms: int) -> object: ...

    def on_fill(self, fill: FillEvent) -> object: ...
# Called with the virtual time (ms) after each step. It may return the time (ms, an int) it next needs a call:
# until the earliest such time of all step hooks the loop calls none of them (anything else: every step).
StepHook = Callable[[int], object]
ProgressCallback = Callable[[int, int], None]


class OrderEvent(NamedTuple):
    """One change of a local order: ``kind`` is ``open`` (accepted by the venue), ``rejected`` or ``canceled``.

    Fills arrive separately (:meth:`JournalHook.on_fill`). Immutable; a named tuple like the other high-volume
    messages (a journaled busy run builds one per order event).
    """

    kind: str
    client_order_id: str
    order_id: str | None
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    state: OrderState
    timestamp_ms: int
    message: str = ""


class JournalHook(Protocol):
    """Observes every order event and fill the loop handles, and each step (a checkpoint opportunity)."""

    def on_order_event(self, event: OrderEvent) -> object: ...

    def on_fill(self, fill: FillEvent) -> object: ...

    def on_step(self, now_ms: int) -> object: ...


@runtime_checkable
class TickJournalHook(JournalHook, Protocol):
    """Optional extension of :class:`JournalHook`: rows as plain values, on the symbol's registered grid.

    The loop calls ``on_order_ticks`` instead of ``on_order_event`` for an order on its symbol's registered
    grid (``lots`` and ``ticks`` of the grid the loop registered, see :meth:`ExecutionLoop.add_instruments`), and
    ``on_fill_ticks`` instead of ``on_fill`` for a fill from a :class:`TickVenue`; everything else still arrives
    as an :class:`OrderEvent` / ``FillEvent``. A hook is taken for one when it has both methods (``isinstance``
    of this runtime-checkable protocol); a hook without them keeps getting events. ``state`` is the order's state
    after the event.
    """

    def on_order_ticks(self, kind: str, client_order_id: str, order_id: str | None, symbol: str, is_buy: bool,
                       lots: int, ticks: int, state: OrderState, timestamp_ms: int, message: str) -> object: ...

    def on_fill_ticks(self, client_order_id: str, order_id: str, symbol: str, is_buy: bool, lots: int, ticks: int,
                      timestamp_ms: int, is_maker: bool, fill_id: str) -> object: ...


@dataclass(frozen=True, slots=True)
class RiskNotice:
    """A freeze (``frozen=True``) or unfreeze of trading, with the decision's exact inputs.

    ``edge_bps`` is the exact edge that was compared (``None`` for a signal that is not a number);
    ``at_ms`` is run-relative virtual time.
    """

    frozen: bool
    symbol: str | None
    reason: str
    edge_bps: Decimal | None
    threshold_bps: Decimal
    at_ms: int
    unfreeze_after_ms: int | None


RiskListener = Callable[[RiskNotice], object]


class ExecutionTotals:
    """What a venue executed for one symbol, as sums (memory stays flat however many fills).

    Optional venue extension ``execution_totals() -> dict[str, ExecutionTotals]``, used by reconciliation.
    Decimal executions go through :meth:`add`; a venue on an integer grid uses :meth:`add_ticks` (lots and
    ticks of ``lot_size`` / ``tick_size``), converted to decimals only when read.
    """

    __slots__ = ("_bought", "_maker", "_sold", "_taker", "bought_lots", "fills", "lot_size", "maker_ticklots",
                 "sold_lots", "taker_ticklots", "tick_size")

    def __init__(self, tick_size: Decimal = _ONE, lot_size: Decimal = _ONE) -> None:
        self.fills = 0
        self.tick_size = tick_size
        self.lot_size = lot_size
        self._bought = self._sold = self._maker = self._taker = _ZERO
        self.bought_lots = self.sold_lots = self.maker_ticklots = self.taker_ticklots = 0

    def add(self, is_buy: bool, qty: Decimal, price: Decimal, is_maker: bool) -> None:
        self.fills += 1
        if is_buy:
            self._bought += qty
        else:
            self._sold += qty
        if is_maker:
            self._maker += qty * price
        else:
            self._taker += qty * price

    def add_ticks(self, is_buy: bool, lots: int, ticks: int, is_maker: bool) -> None:
        """:meth:`add` for ``lots`` at ``ticks`` of this symbol's grid (integers only)."""
        self.fills += 1
        if is_buy:
            self.bought_lots += lots
        else:
            self.sold_lots += lots
        if is_maker:
            self.maker_ticklots += lots * ticks
        else:
            self.taker_ticklots += lots * ticks

    @property
    def bought(self) -> Decimal:
        return self._bought + self.bought_lots * self.lot_size

    @property
    def sold(self) -> Decimal:
        return self._sold + self.sold_lots * self.lot_size

    @property
    def maker_notional(self) -> Decimal:
        return self._maker + self.maker_ticklots * self.tick_size * self.lot_size

    @property
    def taker_notional(self) -> Decimal:
        return self._taker + self.taker_ticklots * self.tick_size * self.lot_size

    @property
    def net_qty(self) -> Decimal:
        return self.bought - self.sold


__all__ = [
    "ExecutionTotals",
    "FillListener",
    "IExchangeClient",
    "JournalHook",
    "MarketSource",
    "OrderEvent",
    "ProgressCallback",
    "RiskListener",
    "RiskNotice",
    "StepHook",
    "SteppedMarket",
    "TickFill",
    "TickFillListener",
    "TickJournalHook",
    "TickVenue",
    "Venue",
]
