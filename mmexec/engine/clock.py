"""Virtual time. Latency is simulated by moving this clock; nothing in mmexec ever sleeps."""

from __future__ import annotations


class ClockError(ValueError):
    """The clock was asked to go backwards."""


class VirtualClock:
    """A monotonic millisecond clock that only moves when told to.

    Share one instance between the execution loop and the exchange client so that fills scheduled
    ``latency_ms`` ahead are released exactly when the loop's time reaches them.
    """

    __slots__ = ("_now_ms",)

    def __init__(self, start_ms: int = 0) -> None:
        if start_ms < 0:
            raise ClockError(f"start_ms must be >= 0, got {start_ms}")
        self._now_ms = int(start_ms)

    def now_ms(self) -> int:
        return self._now_ms

    def advance(self, delta_ms: int) -> int:
        """Move forward by ``delta_ms`` (>= 0) and return the new time."""
        if delta_ms < 0:
            raise ClockError(f"cannot advance by a negative amount ({delta_ms} ms)")
        self._now_ms += int(delta_ms)
        return self._now_ms

    def advance_to(self, when_ms: int) -> int:
        """Move forward to ``when_ms``; moving backwards is an error."""
        if when_ms < self._now_ms:
            raise ClockError(f"cannot move back from {self._now_ms} to {when_ms} ms")
        self._now_ms = int(when_ms)
        return self._now_ms

    def __repr__(self) -> str:
        return f"VirtualClock(now_ms={self._now_ms})"
