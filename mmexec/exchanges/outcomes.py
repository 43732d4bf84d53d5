"""Per-order fate from (seed, client order id): one order's outcome never depends on unrelated orders."""

from __future__ import annotations

import hashlib
from functools import lru_cache

_SCALE = 1.0 / 2**32


@lru_cache(maxsize=64)
def _key(seed: int) -> bytes:
    return seed.to_bytes(16, "big", signed=False) if seed >= 0 else (-seed).to_bytes(16, "big") + b"-"


def order_uniforms(seed: int, client_order_id: str) -> tuple[float, float, float, float]:
    """Four independent uniforms in [0, 1) from blake2b(seed-keyed, client order id)."""
    digest = hashlib.blake2b(client_order_id.encode("utf-8"), digest_size=16, key=_key(seed)).digest()
    n = int.from_bytes(digest, "big")
    return (
        (n >> 96) * _SCALE,
        ((n >> 64) & 0xFFFFFFFF) * _SCALE,
        ((n >> 32) & 0xFFFFFFFF) * _SCALE,
        (n & 0xFFFFFFFF) * _SCALE,
    )
