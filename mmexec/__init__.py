"""mmexec: a deterministic shadow-trading execution engine and operator CLI.

The public names are resolved lazily (PEP 562), so ``import mmexec`` stays cheap and pulls in neither
pydantic, boto3 nor the engine until a name is used::

    from mmexec import run_shadow_demo, FakeExchangeClient, ExecutionLoop
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mmexec._version import __version__

_EXPORTS: dict[str, str] = {
    # engine
    "Side": "mmexec.engine.models",
    "OrderState": "mmexec.engine.models",
    "PlaceOrderRequest": "mmexec.engine.models",
    "PlaceOrderResponse": "mmexec.engine.models",
    "OpenOrder": "mmexec.engine.models",
    "Position": "mmexec.engine.models",
    "FillEvent": "mmexec.engine.models",
    "Quote": "mmexec.engine.models",
    "VirtualClock": "mmexec.engine.clock",
    "InMemoryOrderStore": "mmexec.engine.order_store",
    "RuntimeRiskMonitor": "mmexec.engine.risk",
    "ExecutionLoop": "mmexec.engine.loop",
    "ExecutionParams": "mmexec.engine.loop",
    "run_shadow_demo": "mmexec.session",
    "RunConfig": "mmexec.session",
    "run_session": "mmexec.session",
    # exchanges
    "IExchangeClient": "mmexec.exchanges.base",
    "FakeExchangeClient": "mmexec.exchanges.fake",
    "BybitRestClient": "mmexec.exchanges.bybit.client",
    # secrets
    "SecretProvider": "mmexec.secrets.provider",
    # fees
    "FeeSchedule": "mmexec.fees.schedule",
    "calc_fees_and_rebates": "mmexec.fees.calc",
    "build_profile_map": "mmexec.fees.profiles",
    "VIP0_PROFILE": "mmexec.fees.profiles",
    "VIP1_PROFILE": "mmexec.fees.profiles",
    "VIP2_PROFILE": "mmexec.fees.profiles",
    "VIP3_PROFILE": "mmexec.fees.profiles",
    "MM_TIER_A_PROFILE": "mmexec.fees.profiles",
    # reconciliation
    "reconcile": "mmexec.recon",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmexec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from mmexec.engine.clock import VirtualClock
    from mmexec.engine.loop import ExecutionLoop, ExecutionParams
    from mmexec.engine.models import (
        FillEvent,
        OpenOrder,
        OrderState,
        PlaceOrderRequest,
        PlaceOrderResponse,
        Position,
        Quote,
        Side,
    )
    from mmexec.engine.order_store import InMemoryOrderStore
    from mmexec.engine.risk import RuntimeRiskMonitor
    from mmexec.exchanges.base import IExchangeClient
    from mmexec.exchanges.fake import FakeExchangeClient
    from mmexec.session import RunConfig, run_session, run_shadow_demo
