"""Per-order fate from (seed, client order id): one order's outcome never depends on unrelated orders."""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache
from typing import Any

_SCALE = 1.0 / 2**32
WORD = 2**32  # a uniform ``u`` is ``word / WORD``, so ``u < rate`` exactly when ``word < rate * WORD``
_WORDS = struct.Struct(">IIII").unpack


@lru_cache(maxsize=64)
def _keyed(seed: int) -> Any:
    """blake2b already keyed with the seed; copying it skips re-hashing the key block for every order."""
    key = seed.to_bytes(16, "big", signed=False) if seed >= 0 else (-seed).to_bytes(16, "big") + b"-"
    return hashlib.blake2b(digest_size=16, key=key)


class KeyedHasher:
    """The seed-keyed blake2b's ``copy``; picklable (journal checkpoints): rebuilt from the seed on load."""

    __slots__ = ("copy", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.copy: Any = _keyed(seed).copy

    def __reduce__(self) -> tuple[type[KeyedHasher], tuple[int]]:
        return KeyedHasher, (self.seed,)


def keyed_hasher(seed: int) -> KeyedHasher:
    """The seed-keyed blake2b that :func:`order_words` copies (a venue keeps it, skipping the cache lookup)."""
    return KeyedHasher(seed)


def order_words(hasher: Any, client_order_id: str) -> tuple[int, int, int, int]:
    """The four 32-bit words behind :func:`order_uniforms` (``hasher`` from :func:`keyed_hasher`)."""
    h = hasher.copy()
    h.update(client_order_id.encode("utf-8"))
    return _WORDS(h.digest())  # type: ignore[return-value]


def order_uniforms(seed: int, client_order_id: str) -> tuple[float, float, float, float]:
    """Four independent uniforms in [0, 1) from blake2b(seed-keyed, client order id): :func:`order_words` / 2**32."""
    a, b, c, d = order_words(_keyed(seed), client_order_id)
    return a * _SCALE, b * _SCALE, c * _SCALE, d * _SCALE
