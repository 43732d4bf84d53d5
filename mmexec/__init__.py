"""mmexec: a deterministic shadow-trading execution engine and operator CLI.

The public names are resolved lazily (PEP 562), so ``import mmexec`` stays cheap and pulls in neither
pydantic, boto3 nor the engine until a name is used::

    from mmexec import run_shadow_demo, FakeExchangeClient, ExecutionLoop

The classes the README's examples use come from :mod:`mmexec.compat` (the core classes plus the README's
method names); the run layer is :mod:`mmexec.run` (``RunSpec``, ``run_spec``, ``RunResult``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mmexec._version import __version__

_EXPORTS: dict[str, str] = {
    # domain types
    "Side": "mmexec.engine.models",
    "OrderState": "mmexec.engine.models",
    "PlaceOrderRequest": "mmexec.engine.models",
    "PlaceOrderResponse": "mmexec.engine.models",
    "OpenOrder": "mmexec.engine.models",
    "Position": "mmexec.engine.models",
    "FillEvent": "mmexec.engine.models",
    "Quote": "mmexec.engine.models",
    "VirtualClock": "mmexec.engine.clock",
    "IExchangeClient": "mmexec.engine.ports",
    "Venue": "mmexec.engine.ports",
    # the README's classes (core + its method names)
    "InMemoryOrderStore": "mmexec.compat",
    "RuntimeRiskMonitor": "mmexec.compat",
    "ExecutionLoop": "mmexec.compat",
    "ExecutionParams": "mmexec.compat",
    "FakeExchangeClient": "mmexec.compat",
    "BybitRestClient": "mmexec.compat",
    "run_shadow_demo": "mmexec.compat",
    # one run
    "RunSpec": "mmexec.run.spec",
    "RunResult": "mmexec.run.result",
    "run_spec": "mmexec.run.builder",
    # secrets, fees, reconciliation
    "SecretProvider": "mmexec.secrets.provider",
    "FeeSchedule": "mmexec.fees.schedule",
    "calc_fees_and_rebates": "mmexec.fees.calc",
    "build_profile_map": "mmexec.fees.profiles",
    "VIP0_PROFILE": "mmexec.fees.profiles",
    "VIP1_PROFILE": "mmexec.fees.profiles",
    "VIP2_PROFILE": "mmexec.fees.profiles",
    "VIP3_PROFILE": "mmexec.fees.profiles",
    "MM_TIER_A_PROFILE": "mmexec.fees.profiles",
    "reconcile": "mmexec.accounting.recon",
}

__all__ = [  # literal, so type checkers see the re-exports; tests check it matches _EXPORTS
    "MM_TIER_A_PROFILE",
    "VIP0_PROFILE",
    "VIP1_PROFILE",
    "VIP2_PROFILE",
    "VIP3_PROFILE",
    "BybitRestClient",
    "ExecutionLoop",
    "ExecutionParams",
    "FakeExchangeClient",
    "FeeSchedule",
    "FillEvent",
    "IExchangeClient",
    "InMemoryOrderStore",
    "OpenOrder",
    "OrderState",
    "PlaceOrderRequest",
    "PlaceOrderResponse",
    "Position",
    "Quote",
    "RunResult",
    "RunSpec",
    "RuntimeRiskMonitor",
    "SecretProvider",
    "Side",
    "Venue",
    "VirtualClock",
    "__version__",
    "build_profile_map",
    "calc_fees_and_rebates",
    "reconcile",
    "run_shadow_demo",
    "run_spec",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmexec' has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover -- what type checkers see: every export, fully typed
    from mmexec.accounting.recon import reconcile
    from mmexec.compat import (
        BybitRestClient,
        ExecutionLoop,
        ExecutionParams,
        FakeExchangeClient,
        InMemoryOrderStore,
        RuntimeRiskMonitor,
        run_shadow_demo,
    )
    from mmexec.engine.clock import VirtualClock
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
    from mmexec.engine.ports import IExchangeClient, Venue
    from mmexec.fees.calc import calc_fees_and_rebates
    from mmexec.fees.profiles import (
        MM_TIER_A_PROFILE,
        VIP0_PROFILE,
        VIP1_PROFILE,
        VIP2_PROFILE,
        VIP3_PROFILE,
        build_profile_map,
    )
    from mmexec.fees.schedule import FeeSchedule
    from mmexec.run.builder import run_spec
    from mmexec.run.result import RunResult
    from mmexec.run.spec import RunSpec
    from mmexec.secrets.provider import SecretProvider
