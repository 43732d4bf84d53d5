"""The SQLite journal of a run: order events, fills and checkpoints, for audit and crash-safe resume (#12).

- :mod:`~mmexec.journal.schema`: the tables, ``PRAGMA user_version`` and migrations, opening and validation;
- :mod:`~mmexec.journal.lock`: one writer per journal (an exclusive ``flock``);
- :mod:`~mmexec.journal.writer`: :class:`JournalWriter`, the engine's ``JournalHook``;
- :mod:`~mmexec.journal.snapshot`: checkpoints (pickle protocol 5) and the restricted unpickler;
- :mod:`~mmexec.journal.reader`: orders, fills, the stored report, the last checkpoint;
- :mod:`~mmexec.journal.order_store`: the SQLite-backed order store.
"""
