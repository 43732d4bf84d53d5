"""A token bucket on an injectable millisecond clock (exact Decimal arithmetic, no sleeping).

The bucket starts full with ``capacity`` tokens and gains ``refill_per_s`` tokens per second of clock time,
never more than ``capacity``. :meth:`TokenBucket.acquire` takes ``n`` tokens when they are there and answers
whether it did; it never waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import ROUND_CEILING, Decimal

from mmexec.engine.models import Number, to_decimal

DEFAULT_CAPACITY = 100
DEFAULT_REFILL_PER_S = Decimal(10)
_MS_PER_S = 1000


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class TokenBucket:
    """``capacity`` tokens, refilled at ``refill_per_s`` per second of ``clock()`` (milliseconds)."""

    __slots__ = ("_last_ms", "_tokens", "capacity", "clock", "denied", "granted", "refill_per_s")

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        refill_per_s: Number = DEFAULT_REFILL_PER_S,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if isinstance(capacity, bool) or int(capacity) != capacity or capacity < 1:
            raise ValueError(f"capacity must be a whole number >= 1, got {capacity!r}")
        refill = to_decimal(refill_per_s)
        if not refill.is_finite() or refill < 0:
            raise ValueError(f"refill_per_s must be a finite number >= 0, got {refill_per_s!r}")
        self.capacity = int(capacity)
        self.refill_per_s = refill
        self.clock: Callable[[], int] = clock if clock is not None else _monotonic_ms
        self._tokens = Decimal(self.capacity)
        self._last_ms = self.clock()
        self.granted = 0
        self.denied = 0

    def _refill(self) -> None:
        now = self.clock()
        elapsed = now - self._last_ms
        if elapsed <= 0:  # same instant (or a clock that went back): nothing to add
            return
        self._last_ms = now
        if self._tokens < self.capacity:
            self._tokens = min(Decimal(self.capacity), self._tokens + self.refill_per_s * elapsed / _MS_PER_S)

    @property
    def tokens(self) -> Decimal:
        """Tokens available now (after refilling up to the clock's current time)."""
        self._refill()
        return self._tokens

    def acquire(self, n: int = 1) -> bool:
        """Take ``n`` tokens if available now; ``False`` (and nothing taken) otherwise."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            self.granted += 1
            return True
        self.denied += 1
        return False

    def ms_until(self, n: int = 1) -> int | None:
        """Milliseconds until ``n`` tokens are available (0: now); ``None`` if they never will be."""
        missing = n - self.tokens
        if missing <= 0:
            return 0
        if n > self.capacity or self.refill_per_s == 0:
            return None
        return int((missing * _MS_PER_S / self.refill_per_s).to_integral_value(rounding=ROUND_CEILING))

    def __repr__(self) -> str:
        return f"TokenBucket(capacity={self.capacity}, refill_per_s={self.refill_per_s}, tokens={self._tokens})"
