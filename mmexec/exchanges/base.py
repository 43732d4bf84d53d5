"""The venue port every exchange adapter implements (defined by the engine, :mod:`mmexec.engine.ports`).

``IExchangeClient`` is the README's name for :class:`~mmexec.engine.ports.Venue`.
"""

from __future__ import annotations

from mmexec.engine.ports import ExecutionTotals, IExchangeClient, Venue

__all__ = ["ExecutionTotals", "IExchangeClient", "Venue"]
