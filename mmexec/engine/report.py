"""The core sections of a run report (execution, orders, positions, risk, runtime), built from the loop's
public state. Values stay exact (``Decimal``); :mod:`mmexec.canonical` turns them into JSON numbers at the edge.
``runtime.utc`` is whatever was injected (the params' ``utc``, else the loop's ``utc`` source, else null): the
engine never reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from mmexec._version import __version__

if TYPE_CHECKING:
    from mmexec.engine.clock import VirtualClock
    from mmexec.engine.order_store import InMemoryOrderStore
    from mmexec.engine.params import ExecutionParams
    from mmexec.engine.risk import RuntimeRiskMonitor


class LoopState(Protocol):
    """What the report reads from an execution loop (its public state)."""

    stats: LoopStats
    risk_monitor: RuntimeRiskMonitor
    order_store: InMemoryOrderStore
    clock: VirtualClock
    run_started_ms: int
    freezes_at_start: int
    quotes_at_start: int
    utc: Callable[[], str | None] | None

    def last_mids(self, symbols: list[str] | None = None) -> dict[str, Decimal | None]: ...


@dataclass(slots=True)
class LoopStats:
    """Counters of one execution loop. ``placed`` counts every order sent (accepted or rejected)."""

    iterations: int = 0
    quotes: int = 0
    placed: int = 0
    filled: int = 0
    rejected: int = 0
    canceled: int = 0
    risk_blocks: int = 0
    fills: int = 0
    partial_fills: int = 0
    cancel_failures: int = 0
    unknown_fills: int = 0
    late_fills: int = 0  # fills of orders canceled meanwhile (counted in ``fills`` too)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _freeze_entry(event: dict[str, Any], started_ms: int) -> dict[str, Any]:
    """Freeze events carry run-relative virtual time, so reports don't depend on the wall clock."""
    stamp = event.pop("timestamp_ms")
    event["at_ms"] = None if stamp is None else stamp - started_ms
    return event


def build_core_report(loop: LoopState, params: ExecutionParams) -> dict[str, Any]:
    stats = loop.stats
    risk = loop.risk_monitor
    positions = risk.get_positions()
    by_symbol: dict[str, Decimal] = {}
    net_usd: dict[str, Decimal] = {}
    last_mid = loop.last_mids(list(params.symbols))  # null for a symbol not quoted yet
    for symbol in params.symbols:
        qty = positions.get(symbol, Decimal(0))
        mid = last_mid[symbol]
        by_symbol[symbol] = qty
        net_usd[symbol] = qty * mid if mid is not None else Decimal(0)
    open_orders = loop.order_store.get_open_orders()
    return {
        "execution": {
            "iterations": params.iterations,
            "symbols": list(params.symbols),
            "quotes": stats.quotes - loop.quotes_at_start,
            "virtual_ms": loop.clock.now_ms() - loop.run_started_ms,
        },
        "orders": {
            "placed": stats.placed,
            "filled": stats.filled,
            "rejected": stats.rejected,
            "canceled": stats.canceled,
            "risk_blocks": stats.risk_blocks,
            "open": len(open_orders),
            "fills": stats.fills,
            "partial_fills": stats.partial_fills,
        },
        "positions": {
            "by_symbol": by_symbol,
            "net_pos_usd": net_usd,
            "total_notional_usd": sum((abs(v) for v in net_usd.values()), Decimal(0)),
            "last_mid": last_mid,
        },
        "risk": {
            "frozen": risk.frozen,
            "freeze_events": risk.freezes_total - loop.freezes_at_start,  # in this run; the log keeps 100
            "last_freeze_reason": risk.last_freeze_reason,
            "last_freeze_symbol": risk.last_freeze_symbol,
            "blocks_total": risk.blocks_total,
            "freezes_total": risk.freezes_total,
            "unfreezes_total": risk.unfreezes_total,
            "freeze_log": [_freeze_entry(event.to_dict(), loop.run_started_ms) for event in risk.freeze_log],
        },
        "runtime": {
            "utc": params.utc or (loop.utc() if loop.utc is not None else None),
            "mmexec_version": __version__,
        },
    }
