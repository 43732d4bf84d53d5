"""Reconnect delays: exponential backoff with jitter drawn from a generator the backoff owns (seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """``initial_ms * 2**n`` capped at ``max_ms``, minus up to ``jitter`` of it (random, seeded).

    ``next_delay_ms()`` is called before each reconnect attempt; ``reset()`` after a connection delivered data,
    so a flapping link backs off while a link that dropped once after hours reconnects at once. ``initial_ms=0``
    gives immediate retries (tests).
    """

    initial_ms: int = 500
    max_ms: int = 30_000
    jitter: float = 0.5
    seed: int = 0
    attempt: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.initial_ms < 0 or self.max_ms < self.initial_ms or not 0.0 <= self.jitter <= 1.0:
            raise ValueError("backoff needs 0 <= initial_ms <= max_ms and 0 <= jitter <= 1")
        self._rng = random.Random(self.seed)

    def next_delay_ms(self) -> int:
        base = min(self.max_ms, self.initial_ms << min(self.attempt, 32))
        self.attempt += 1
        return base - int(base * self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempt = 0
