"""How a run (``mmexec bybit-dryrun``, ``mmexec shadow --exchange bybit``) builds its Bybit client."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mmexec.exchanges.bybit.client import BybitRestClient
from mmexec.logs import log_event

if TYPE_CHECKING:
    from mmexec.engine.clock import VirtualClock
    from mmexec.session import RunConfig

log = logging.getLogger("mmexec.bybit")


def build_bybit_client(config: RunConfig, clock: VirtualClock, secret_provider: Any = None) -> BybitRestClient:
    """The dry-run client for ``config`` on the run's ``clock``.

    Credentials come from ``secret_provider`` (``None``: ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET`` through
    ``SecretProvider(backend="env")``). ``reject_rate`` is not simulated: a Bybit dry-run order is refused
    only for what the real API would refuse (its parameters, the rate limit).
    """
    if secret_provider is None:
        from mmexec.secrets.provider import SecretProvider

        secret_provider = SecretProvider(backend="env")
    client = BybitRestClient(
        secret_provider,
        api_env=config.api_env,
        network_enabled=config.network,
        fill_rate=config.fill_rate,
        fill_latency_ms=config.latency_ms,
        seed=config.seed,
        mode=config.mode,
        partial_fill_rate=config.partial_fill_rate,
        rate_limit_capacity=config.rate_limit_capacity,
        rate_limit_refill=config.rate_limit_refill,
        clock=clock,
    )
    if config.reject_rate:
        log_event(log, logging.INFO, "bybit_option_not_simulated", option="reject_rate", value=config.reject_rate,
                  reason="Bybit dry-run refuses orders only for their parameters and the rate limit")
    return client
