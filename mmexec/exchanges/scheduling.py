"""Fill scheduling shared by the simulated venues (the fake exchange and the Bybit dry-run).

:func:`first_part_quarters` reads an order's fate (its uniforms from
:func:`~mmexec.exchanges.outcomes.order_uniforms`) and :func:`plan_fill_lots` turns it into the fills, in whole lots,
the order will get; :class:`FillScheduler` holds scheduled fills in virtual-time order and releases
the due ones. Ties on the same millisecond come out in the order they were scheduled.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from decimal import Decimal
from typing import Generic, TypeVar

Q = TypeVar("Q", Decimal, int)


def first_part_quarters(*, u_fill: float, u_partial: float, u_fraction: float, fill_rate: float,
                        partial_fill_rate: float) -> int | None:
    """An order's fill shape: ``None`` (it does not fill), 4 (one fill) or 1-3 (quarters in the first of two)."""
    if u_fill >= fill_rate:
        return None
    if u_partial < partial_fill_rate:
        return 1 + int(u_fraction * 3)
    return 4


def plan_fill_lots(lots: int, placed_ms: int, latency_ms: int, quarters: int | None) -> list[tuple[int, int]]:
    """The fills of a resting order of ``lots`` placed at ``placed_ms``, as ``(due_ms, lots)``: none when
    ``quarters`` is ``None``, else one at ``placed_ms + latency_ms`` -- or two when ``quarters`` < 4: that many
    quarters of ``lots`` rounded down to a lot, and the rest ``latency_ms`` later (an order too small to split
    fills at once)."""
    if quarters is None:
        return []
    due = placed_ms + latency_ms
    first = lots * quarters // 4
    if quarters < 4 and first:
        return [(due, first), (due + latency_ms, lots - first)]
    return [(due, lots)]


class FillScheduler(Generic[Q]):
    """Scheduled fills ``(due_ms, order_id, qty)`` in due-time order (``qty`` a Decimal or whole lots).

    :meth:`discard` unschedules every pending fill of an order (lazily: stale entries are dropped when they
    reach the front), so :meth:`next_due_ms` and :meth:`pending` only ever count live fills.
    """

    __slots__ = ("_heap", "_live", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str, Q]] = []
        self._live: dict[str, int] = {}  # order id -> pending entries still wanted
        self._seq = 0

    def schedule(self, due_ms: int, order_id: str, qty: Q) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due_ms, self._seq, order_id, qty))
        self._live[order_id] = self._live.get(order_id, 0) + 1

    def discard(self, order_id: str) -> int:
        """Unschedule every pending fill of ``order_id``; returns how many were pending."""
        return self._live.pop(order_id, 0)

    def _take(self) -> tuple[int, str, Q] | None:
        """Pop the front entry; ``None`` when it was discarded."""
        due, _, order_id, qty = heapq.heappop(self._heap)
        left = self._live.get(order_id)
        if left is None:
            return None
        if left == 1:
            del self._live[order_id]
        else:
            self._live[order_id] = left - 1
        return due, order_id, qty

    def pop_due(self, now_ms: int) -> Iterator[tuple[int, str, Q]]:
        """Yield ``(due_ms, order_id, qty)`` of every live fill due at or before ``now_ms``, in time order."""
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            entry = self._take()
            if entry is not None:
                yield entry

    def next_due_ms(self) -> int | None:
        """Due time of the earliest live fill (``None`` if none is scheduled)."""
        heap = self._heap
        while heap and heap[0][2] not in self._live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pending(self) -> int:
        """How many live fills are scheduled."""
        return sum(self._live.values())

    def __len__(self) -> int:
        return self.pending()
