"""The SQLite-backed order store: the engine's order store whose terminal orders live in the journal.

:class:`JournaledOrderStore` is an :class:`~mmexec.engine.order_store.InMemoryOrderStore` (same interface, same
transitions; the engine does not know which one it drives) that keeps only live orders and a short window of
recent terminal ones in memory. Every order ever placed is in the journal (its events and fills), so a lookup
that misses memory is answered from there (:meth:`JournalWriter.lookup_order`): nothing is forgotten, memory
stays flat and checkpoints stay small. A server database (PostgreSQL) would implement the same ``lookup``.
"""

from __future__ import annotations

from collections.abc import Callable

from mmexec.engine.order_store import InMemoryOrderStore, StoredOrder

OrderLookup = Callable[[str], StoredOrder | None]
RECENT_TERMINAL = 1_000  # terminal orders kept in memory (late fills after a cancel find theirs here)


class JournaledOrderStore(InMemoryOrderStore):
    """Live orders in memory; older terminal orders looked up in the journal (see the module docstring)."""

    def __init__(self, lookup: OrderLookup, retain_terminal: int = RECENT_TERMINAL, id_prefix: str = "CLI") -> None:
        super().__init__(retain_terminal=retain_terminal, id_prefix=id_prefix)
        self.lookup = lookup

    def get(self, client_order_id: str) -> StoredOrder | None:
        found = super().get(client_order_id)
        return found if found is not None else self.lookup(client_order_id)

    def require(self, client_order_id: str) -> StoredOrder:
        found = self.get(client_order_id)
        if found is None:
            return super().require(client_order_id)  # raises UnknownOrder
        return found


__all__ = ["RECENT_TERMINAL", "JournaledOrderStore", "OrderLookup"]
