"""Reconciliation: does the local book of record agree with what the exchange reports?

:func:`reconcile` compares

- orders: every order the exchange reports open must be active locally, and every locally active order must
  be open on the exchange (``missing_locally`` / ``missing_on_exchange``); both sides must agree on the state
  (OPEN vs PARTIALLY_FILLED: ``state_mismatches``) and the filled quantity (``filled_qty_mismatches``);
- positions: the store's net filled quantity per symbol vs the exchange's positions (``position_mismatches``);
- fees (when the exchange reports execution totals and a fee ledger is given): the fees and rebates accounted
  locally vs the same schedules applied to what the exchange executed (``fee_mismatches``).

A healthy run reconciles to all zeros. Values stay exact ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.ports import ExecutionTotals, Venue
from mmexec.fees.calc import bps_of, match_schedule
from mmexec.fees.schedule import FeeSchedule
from mmexec.money import MONEY_CONTEXT

_ZERO = Decimal(0)
DETAIL_LIMIT = 50
KINDS = (
    "missing_on_exchange",
    "missing_locally",
    "state_mismatches",
    "filled_qty_mismatches",
    "position_mismatches",
    "fee_mismatches",
)


class FeeSource(Protocol):
    """What reconciliation needs from a fee ledger (:class:`mmexec.accounting.ledger.FeeLedger` fits)."""

    def fees_by_symbol(self) -> dict[str, Decimal]: ...

    def rebates_by_symbol(self) -> dict[str, Decimal]: ...


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str
    symbol: str
    local: Any
    exchange: Any
    client_order_id: str | None = None
    order_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "symbol": self.symbol,
            "client_order_id": self.client_order_id,
            "order_id": self.order_id,
            "local": self.local,
            "exchange": self.exchange,
        }


@dataclass(frozen=True, slots=True)
class ReconReport:
    orders_checked: int
    symbols_checked: int
    fees_checked: bool
    discrepancies: tuple[Discrepancy, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def count(self, kind: str) -> int:
        return sum(1 for d in self.discrepancies if d.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """The run report's ``recon`` section (counts, then at most :data:`DETAIL_LIMIT` details)."""
        out: dict[str, Any] = {kind: self.count(kind) for kind in KINDS}
        out.update(
            ok=self.ok,
            mismatches_total=len(self.discrepancies),
            orders_checked=self.orders_checked,
            symbols_checked=self.symbols_checked,
            fees_checked=self.fees_checked,
            details=[d.to_dict() for d in self.discrepancies[:DETAIL_LIMIT]],
        )
        return out


def reconcile(
    order_store: InMemoryOrderStore,
    exchange: Venue,
    *,
    fee_ledger: FeeSource | None = None,
    fee_schedule: FeeSchedule | None = None,
    profile_map: Mapping[str, FeeSchedule] | None = None,
) -> ReconReport:
    """Compare the local store (and fee ledger) with the exchange; see the module docstring."""
    found: list[Discrepancy] = []
    venue_open = {o.client_order_id: o for o in exchange.get_open_orders()}
    local_active = {o.client_order_id: o for o in order_store.get_open_orders()}
    for coid, theirs in venue_open.items():
        mine = local_active.get(coid)
        if mine is None:
            known = order_store.get(coid)
            found.append(Discrepancy("missing_locally", theirs.symbol, known.state.value if known else None,
                                     theirs.state.value, coid, theirs.order_id))
            continue
        if mine.state is not theirs.state:
            found.append(Discrepancy("state_mismatches", theirs.symbol, mine.state.value, theirs.state.value,
                                     coid, theirs.order_id))
        if mine.filled_qty != theirs.filled_qty:
            found.append(Discrepancy("filled_qty_mismatches", theirs.symbol, mine.filled_qty, theirs.filled_qty,
                                     coid, theirs.order_id))
    for coid, mine in local_active.items():
        if coid not in venue_open:
            found.append(Discrepancy("missing_on_exchange", mine.symbol, mine.state.value, None, coid, mine.order_id))

    local_positions = order_store.get_positions()
    venue_positions = {p.symbol: p.qty for p in exchange.get_positions()}
    symbols = sorted(set(local_positions) | set(venue_positions))
    for symbol in symbols:
        mine_qty = local_positions.get(symbol, _ZERO)
        theirs_qty = venue_positions.get(symbol, _ZERO)
        if mine_qty != theirs_qty:
            found.append(Discrepancy("position_mismatches", symbol, mine_qty, theirs_qty))

    fees_checked = False
    totals_of = getattr(exchange, "execution_totals", None)
    if fee_ledger is not None and fee_schedule is not None and callable(totals_of):
        fees_checked = True
        found.extend(_fee_discrepancies(fee_ledger, totals_of(), fee_schedule, profile_map))
    return ReconReport(len(venue_open.keys() | local_active.keys()), len(symbols), fees_checked, tuple(found))


def _fee_discrepancies(ledger: FeeSource, totals: Mapping[str, ExecutionTotals], fee_schedule: FeeSchedule,
                       profile_map: Mapping[str, FeeSchedule] | None) -> list[Discrepancy]:
    found = []
    local_fees = ledger.fees_by_symbol()
    local_rebates = ledger.rebates_by_symbol()
    for symbol in sorted(set(local_fees) | set(totals)):
        venue = totals.get(symbol) or ExecutionTotals()
        schedule, _ = match_schedule(symbol, fee_schedule, profile_map)
        venue_fees = MONEY_CONTEXT.add(bps_of(venue.maker_notional, schedule.maker_bps),
                                     bps_of(venue.taker_notional, schedule.taker_bps))
        venue_rebates = bps_of(venue.maker_notional, schedule.maker_rebate_bps)
        mine = (local_fees.get(symbol, _ZERO), local_rebates.get(symbol, _ZERO))
        if mine != (venue_fees, venue_rebates):
            found.append(Discrepancy("fee_mismatches", symbol, {"fees": mine[0], "rebates": mine[1]},
                                     {"fees": venue_fees, "rebates": venue_rebates}))
    return found


__all__ = ["KINDS", "Discrepancy", "ReconReport", "reconcile"]
