"""The SQLite-backed order store: the engine's order store whose terminal orders live in the journal.

:func:`journaled_order_store` is an :class:`~mmexec.engine.order_store.InMemoryOrderStore` (the same class, same
transitions; the engine does not know which one it drives) that keeps only live orders and a short window of
recent terminal ones in memory. Every order ever placed is in the journal (its events and fills), so a lookup
that misses memory is answered from there (:meth:`JournalWriter.lookup_order`, the store's ``lookup``): nothing
is forgotten, memory stays flat and checkpoints stay small. A server database (PostgreSQL) would provide the
same ``lookup``. (One class, not a subclass: the compiled engine calls a subclass's methods the slow way.)
"""

from __future__ import annotations

from collections.abc import Callable

from mmexec.engine.order_store import InMemoryOrderStore, StoredOrder

OrderLookup = Callable[[str], StoredOrder | None]
RECENT_TERMINAL = 1_000  # terminal orders kept in memory (late fills after a cancel find theirs here)


def journaled_order_store(lookup: OrderLookup, retain_terminal: int = RECENT_TERMINAL,
                          id_prefix: str = "CLI") -> InMemoryOrderStore:
    """An order store keeping ``retain_terminal`` terminal orders in memory and finding older ones with
    ``lookup`` (see the module docstring)."""
    return InMemoryOrderStore(retain_terminal=retain_terminal, id_prefix=id_prefix, lookup=lookup)


__all__ = ["RECENT_TERMINAL", "OrderLookup", "journaled_order_store"]
