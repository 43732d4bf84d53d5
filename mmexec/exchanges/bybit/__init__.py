"""The Bybit V5 adapter, dry-run only: signed requests, rate limit, local venue, no network.

- :mod:`~mmexec.exchanges.bybit.signing` -- :func:`generate_signature`, payload encoding, ``X-BAPI-*`` headers;
- :mod:`~mmexec.exchanges.bybit.ratelimit` -- :class:`TokenBucket`;
- :mod:`~mmexec.exchanges.bybit.envelopes` -- the V5 envelope, ``retCode`` values, wire forms;
- :mod:`~mmexec.exchanges.bybit.venue` / :mod:`~mmexec.exchanges.bybit.transport` -- the local stand-in
  for Bybit's gateway and matching;
- :mod:`~mmexec.exchanges.bybit.api` -- :class:`BybitV5Client` (V5 requests and envelopes);
- :mod:`~mmexec.exchanges.bybit.client` -- :class:`BybitRestClient` (the engine's ``Venue`` port; a run builds it
  in :mod:`mmexec.run.builder`); :mod:`~mmexec.logs` -- JSON-lines logs on stderr.

Names are resolved lazily so that importing a submodule stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "generate_signature": "mmexec.exchanges.bybit.signing",
    "RequestSigner": "mmexec.exchanges.bybit.signing",
    "SignedRequest": "mmexec.exchanges.bybit.signing",
    "TokenBucket": "mmexec.exchanges.bybit.ratelimit",
    "BybitV5Client": "mmexec.exchanges.bybit.api",
    "BybitApiError": "mmexec.exchanges.bybit.api",
    "BybitRestClient": "mmexec.exchanges.bybit.client",
}
__all__ = [
    "BybitApiError",
    "BybitRestClient",
    "BybitV5Client",
    "RequestSigner",
    "SignedRequest",
    "TokenBucket",
    "generate_signature",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmexec.exchanges.bybit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover
    from mmexec.exchanges.bybit.api import BybitApiError, BybitV5Client
    from mmexec.exchanges.bybit.client import BybitRestClient
    from mmexec.exchanges.bybit.ratelimit import TokenBucket
    from mmexec.exchanges.bybit.signing import RequestSigner, SignedRequest, generate_signature
