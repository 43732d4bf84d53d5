"""Per-order fate from (seed, client order id): one order's outcome never depends on unrelated orders."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

_SCALE = 1.0 / 2**32


@lru_cache(maxsize=64)
def _keyed(seed: int) -> Any:
    """blake2b already keyed with the seed; copying it skips re-hashing the key block for every order."""
    key = seed.to_bytes(16, "big", signed=False) if seed >= 0 else (-seed).to_bytes(16, "big") + b"-"
    return hashlib.blake2b(digest_size=16, key=key)


def order_uniforms(seed: int, client_order_id: str) -> tuple[float, float, float, float]:
    """Four independent uniforms in [0, 1) from blake2b(seed-keyed, client order id)."""
    hasher = _keyed(seed).copy()
    hasher.update(client_order_id.encode("utf-8"))
    n = int.from_bytes(hasher.digest(), "big")
    return (
        (n >> 96) * _SCALE,
        ((n >> 64) & 0xFFFFFFFF) * _SCALE,
        ((n >> 32) & 0xFFFFFFFF) * _SCALE,
        (n & 0xFFFFFFFF) * _SCALE,
    )
