"""Accounting of a run beyond the engine's own books: markouts of fills (replay)."""
