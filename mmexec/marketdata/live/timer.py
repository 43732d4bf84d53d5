"""The monotonic clock the live feed's timers (ping, stale watchdog, backoff) run on.

:class:`SystemTimer` is the real one. :class:`ManualTimer` only moves when told to (``advance``), so tests
drive 20 s pings, stale-feed timeouts and backoff delays without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class FeedTimer(Protocol):
    def monotonic_ns(self) -> int: ...

    async def sleep_until(self, deadline_ns: int) -> None: ...


class SystemTimer:
    """``time.monotonic_ns`` and ``asyncio.sleep``."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    async def sleep_until(self, deadline_ns: int) -> None:
        delay_ns = deadline_ns - time.monotonic_ns()
        if delay_ns > 0:
            await asyncio.sleep(delay_ns / 1e9)


class ManualTimer:
    """A timer whose time moves only by :meth:`advance`; sleepers wake when their deadline is reached."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns
        self._sleepers: list[tuple[int, asyncio.Future[None]]] = []

    def monotonic_ns(self) -> int:
        return self._now_ns

    async def sleep_until(self, deadline_ns: int) -> None:
        if deadline_ns <= self._now_ns:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((deadline_ns, waiter))
        await waiter

    def advance(self, ms: int) -> None:
        self._now_ns += ms * 1_000_000
        due = [entry for entry in self._sleepers if entry[0] <= self._now_ns]
        self._sleepers = [entry for entry in self._sleepers if entry[0] > self._now_ns]
        for _, waiter in due:
            if not waiter.done():
                waiter.set_result(None)
