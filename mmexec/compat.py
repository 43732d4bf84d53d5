"""The README's original API names, as thin wrappers over the core's one dialect.

The core classes speak one dialect (``evaluate``/``reserve`` on the risk monitor, ``place_limit`` on venues,
``open_order``/``fill_order``/``cancel_order``/``move``/``export`` on the order store, a ``frozen`` property).
The usage examples in the README -- and ``examples/`` -- use other names for the same steps; the subclasses
here add exactly those names, so ``from mmexec import InMemoryOrderStore`` keeps working as documented:

- ``RuntimeRiskMonitor``: ``check_before_order``, ``on_order_open``, ``on_order_release``, ``on_fill``,
  ``is_frozen``;
- ``InMemoryOrderStore``: ``mark_open``, ``mark_rejected``, ``mark_canceled``, ``apply_fill``, ``transition``,
  ``to_dict``;
- ``FakeExchangeClient`` / ``BybitRestClient``: ``place_limit_order``;
- ``ExecutionParams``: also takes the original API's risk keywords (``max_inventory_usd_per_symbol``,
  ``max_total_notional_usd``, ``edge_freeze_threshold_bps``), kept on the params but never read by the loop;
- ``ExecutionLoop``: stamps ``runtime.utc`` from ``MM_FREEZE_UTC_ISO`` (else the wall clock) when the params
  carry no ``utc``, as the README documents;
- :func:`run_shadow_demo`: the one-call entry point returning the canonical JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mmexec.engine.clock import VirtualClock
from mmexec.engine.loop import ExecutionLoop as _CoreLoop
from mmexec.engine.models import Number, OrderState, PlaceOrderRequest, PlaceOrderResponse, Side, to_decimal
from mmexec.engine.order_store import InMemoryOrderStore as _CoreStore
from mmexec.engine.order_store import StoredOrder
from mmexec.engine.params import ExecutionParams as _CoreParams
from mmexec.engine.ports import Venue
from mmexec.engine.risk import RuntimeRiskMonitor as _CoreRisk
from mmexec.engine.strategy import QuotingPolicy
from mmexec.exchanges.bybit.client import BybitRestClient as _CoreBybit
from mmexec.exchanges.fake import FakeExchangeClient as _CoreFake

if TYPE_CHECKING:
    from mmexec.secrets.provider import SecretProvider


class RuntimeRiskMonitor(_CoreRisk):
    """:class:`mmexec.engine.risk.RuntimeRiskMonitor` with the README's method names."""

    def check_before_order(self, symbol: str, side: Side | str, qty: Number, price: Number) -> bool:
        """True if the order fits both limits in the worst case; a False answer counts as a block."""
        reason = self.evaluate(symbol, Side(side), to_decimal(qty), to_decimal(price))
        if reason is None:
            return True
        self.count_block(reason)
        return False

    def on_order_open(self, symbol: str, side: Side | str, qty: Number, price: Number) -> None:
        """Reserve an accepted order's notional as open exposure."""
        self.reserve(symbol, Side(side), to_decimal(qty) * to_decimal(price))

    def on_order_release(self, symbol: str, side: Side | str, qty: Number, price: Number) -> None:
        """Release open exposure (the order filled or was canceled for ``qty`` at its limit ``price``)."""
        self.reserve(symbol, Side(side), -(to_decimal(qty) * to_decimal(price)))

    def on_fill(self, symbol: str, side: Side | str, qty: Number, price: Number) -> None:
        """Apply an execution to the position (exact sum of fills) and mark the symbol at ``price``."""
        self.apply_fill(symbol, Side(side), to_decimal(qty), to_decimal(price))

    def is_frozen(self) -> bool:
        return self.frozen


class InMemoryOrderStore(_CoreStore):
    """:class:`mmexec.engine.order_store.InMemoryOrderStore` with the README's client-id based methods."""

    def mark_open(self, client_order_id: str, order_id: str, *, now_ms: int | None = None) -> StoredOrder:
        return self.open_order(self.require(client_order_id), order_id, now_ms)

    def mark_rejected(self, client_order_id: str, message: str = "", *, now_ms: int | None = None) -> StoredOrder:
        return self.reject_order(self.require(client_order_id), message, now_ms)

    def mark_canceled(self, client_order_id: str, *, now_ms: int | None = None) -> StoredOrder:
        return self.cancel_order(self.require(client_order_id), now_ms)

    def apply_fill(self, client_order_id: str, qty: Decimal, *, now_ms: int | None = None) -> StoredOrder:
        """Add a fill increment; the order becomes FILLED exactly when filled qty equals its qty."""
        return self.fill_order(self.require(client_order_id), qty, now_ms)

    def transition(self, client_order_id: str, new_state: OrderState, *, now_ms: int | None = None) -> StoredOrder:
        """Generic state change; fill states are reached only through :meth:`apply_fill`."""
        return self.move(self.require(client_order_id), new_state, now_ms)

    def to_dict(self) -> dict[str, Any]:
        return self.export()


class FakeExchangeClient(_CoreFake):
    """:class:`mmexec.exchanges.fake.FakeExchangeClient` with ``place_limit_order``."""

    def place_limit_order(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        return self.place_limit(req)


class BybitRestClient(_CoreBybit):
    """:class:`mmexec.exchanges.bybit.client.BybitRestClient` with ``place_limit_order``."""

    def place_limit_order(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        return self.place_limit(req)


@dataclass(frozen=True)
class ExecutionParams(_CoreParams):
    """:class:`mmexec.engine.params.ExecutionParams` that also accepts the original API's risk keywords.

    ``max_inventory_usd_per_symbol``, ``max_total_notional_usd`` and ``edge_freeze_threshold_bps`` are kept as
    given but **not enforced by the run**: the limits that apply are those of the ``RuntimeRiskMonitor`` the loop
    is given (give it the same values). Pass them by keyword (they come after the core fields).
    """

    max_inventory_usd_per_symbol: Number = Decimal("10000")
    max_total_notional_usd: Number = Decimal("50000")
    edge_freeze_threshold_bps: Number = Decimal("1.5")


def _frozen_or_now() -> str:
    from mmexec.config.runtime import frozen_utc
    from mmexec.run.builder import utc_now_iso

    return frozen_utc() or utc_now_iso()


class ExecutionLoop(_CoreLoop):
    """:class:`mmexec.engine.loop.ExecutionLoop` stamping ``runtime.utc`` from ``MM_FREEZE_UTC_ISO`` (else now)."""

    def __init__(self, exchange: Venue, order_store: _CoreStore, risk_monitor: _CoreRisk, *,
                 clock: VirtualClock | None = None, policy: QuotingPolicy | None = None) -> None:
        super().__init__(exchange, order_store, risk_monitor, clock=clock, policy=policy, utc=_frozen_or_now)


def run_shadow_demo(
    symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT"),
    iterations: int = 50,
    max_inventory_usd_per_symbol: Number = 10000.0,
    max_total_notional_usd: Number = 50000.0,
    edge_freeze_threshold_bps: Number = 1.5,
    fill_rate: float = 0.7,
    reject_rate: float = 0.05,
    latency_ms: int = 100,
    partial_fill_rate: float = 0.0,
    seed: int = 42,
    *,
    utc: str | None = None,
    secret_provider: SecretProvider | None = None,
    **options: object,
) -> str:
    """Run a shadow session and return the canonical JSON report (text).

    ``utc`` stamps ``runtime.utc``; without it, ``MM_FREEZE_UTC_ISO`` does (malformed ->
    :class:`~mmexec.errors.ConfigError`), else the current time. Further keyword options are the run's
    flag-named settings (``exchange``, ``quote_interval_ms``, ``fee_tier`` ...); an unknown one is a
    :class:`TypeError`, like any misspelt keyword argument.
    """
    from mmexec.canonical import dumps_str
    from mmexec.run.builder import run_spec
    from mmexec.run.spec import RunSpec

    spec = RunSpec.from_settings({
        **options,
        "symbols": tuple(symbols),
        "iterations": iterations,
        "max_inv": to_decimal(max_inventory_usd_per_symbol),
        "max_total": to_decimal(max_total_notional_usd),
        "edge_threshold": to_decimal(edge_freeze_threshold_bps),
        "fill_rate": fill_rate,
        "reject_rate": reject_rate,
        "latency_ms": latency_ms,
        "partial_fill_rate": partial_fill_rate,
        "seed": seed,
    }, strict=True)
    result = run_spec(spec, utc=utc or _frozen_or_now(), secret_provider=secret_provider)
    return dumps_str(result.to_report())


__all__ = ["BybitRestClient", "ExecutionLoop", "ExecutionParams", "FakeExchangeClient", "InMemoryOrderStore",
           "RuntimeRiskMonitor", "run_shadow_demo"]
