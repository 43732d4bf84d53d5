"""The journal's schema: tables, version (``PRAGMA user_version``), migrations, and safe opening.

Version history (add a migration, never edit an old one):

1. ``run`` (one row: command table, spec JSON, runtime stamp, status ``running``/``complete``, the mmexec
   version that started it, final report),
   ``order_events`` (``open``, ``rejected``, ``canceled`` per order), ``fills`` (each fill with fee and rebate),
   ``checkpoints`` (a pickled snapshot of the run every K steps; the two newest are kept).
2. ``instruments`` (each symbol's tick and lot size, as exact text); ``qty`` and ``price`` of ``order_events`` and
   ``fills`` lose their TEXT type (no affinity: SQLite stores what is bound): an INTEGER is a number of lots /
   ticks of the symbol's grid in ``instruments`` (rows of the loop's integer path), TEXT the exact decimal
   (rows written through the ``Decimal`` ports, and every row of a version-1 journal, kept as they were).
   The two tables are rebuilt with their rows; nothing else changes.

Opening validates before anything is written: an existing file must start with the SQLite header, pass
``PRAGMA quick_check``, carry the ``run`` table and a version this mmexec knows. Every failure is a
:class:`JournalError` (one line, exit 2) and leaves the file untouched.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from mmexec.errors import InputError

SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_VERSION = 2
WAL_AUTOCHECKPOINT_PAGES = 16_384  # fold the WAL into the database every ~64 MiB (each fold is an fsync)

_V1 = """
CREATE TABLE run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    command TEXT NOT NULL,
    spec TEXT NOT NULL,
    utc TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete')),
    created TEXT NOT NULL,
    mmexec_version TEXT NOT NULL,
    report BLOB
);
CREATE TABLE order_events (
    seq INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    order_id TEXT,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    state TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE fills (
    seq INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    is_maker INTEGER NOT NULL,
    fill_id TEXT NOT NULL,
    fee TEXT NOT NULL,
    rebate TEXT NOT NULL
);
CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    events_seq INTEGER NOT NULL,
    fills_seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
"""

_V2 = """
CREATE TABLE instruments (
    symbol TEXT PRIMARY KEY,
    tick_size TEXT NOT NULL,
    lot_size TEXT NOT NULL
);
ALTER TABLE order_events RENAME TO order_events_v1;
CREATE TABLE order_events (
    seq INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    order_id TEXT,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty NOT NULL,
    price NOT NULL,
    state TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
INSERT INTO order_events SELECT * FROM order_events_v1;
DROP TABLE order_events_v1;
ALTER TABLE fills RENAME TO fills_v1;
CREATE TABLE fills (
    seq INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty NOT NULL,
    price NOT NULL,
    ts_ms INTEGER NOT NULL,
    is_maker INTEGER NOT NULL,
    fill_id TEXT NOT NULL,
    fee TEXT NOT NULL,
    rebate TEXT NOT NULL
);
INSERT INTO fills SELECT * FROM fills_v1;
DROP TABLE fills_v1
"""

# MIGRATIONS[n] takes a journal from version n to n + 1 (index 0 creates an empty database's tables).
MIGRATIONS: tuple[str, ...] = (_V1, _V2)
assert len(MIGRATIONS) == SCHEMA_VERSION


class JournalError(InputError):
    """A journal that cannot be used: not SQLite, corrupt, too new, locked, complete, ..."""


def looks_like_sqlite(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a file starting with the SQLite header (how a journal is told from a report)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def check_existing(path: Path) -> None:
    """Refuse a path that exists but is no usable journal, without writing to it."""
    source = str(path)
    if path.is_dir():
        raise JournalError("journal path is a directory", source=source)
    if not looks_like_sqlite(path):
        raise JournalError("not an mmexec journal (not an SQLite database)", source=source)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal: {exc}", source=source) from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(f"journal schema version {version} is newer than this mmexec supports "
                               f"({SCHEMA_VERSION}); upgrade mmexec", source=source)
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise JournalError(f"journal is corrupt ({check})", source=source)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version < 1 or "run" not in tables:
            raise JournalError("not an mmexec journal (an SQLite database without a run table)", source=source)
        if conn.execute("SELECT count(*) FROM run").fetchone()[0] != 1:
            raise JournalError("journal has no run record", source=source)
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"journal is corrupt or truncated: {exc}", source=source) from None
    finally:
        conn.close()


def connect(path: Path) -> sqlite3.Connection:
    """A read-write connection in WAL mode with ``synchronous=NORMAL``, migrated to :data:`SCHEMA_VERSION`.

    Transactions are explicit (``isolation_level=None``): the writer decides where a batch ends.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise JournalError(f"journal is corrupt or truncated: {exc}", source=str(path)) from None
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Apply every migration the database lacks, each in its own transaction with its version bump."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for target in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[target].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def open_readonly(path: Path) -> sqlite3.Connection:
    """Validate ``path`` (see :func:`check_existing`) and open it for reading only."""
    if not path.exists():
        raise JournalError("journal does not exist", source=str(path))
    check_existing(path)
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLITE_HEADER", "JournalError", "check_existing", "connect",
           "looks_like_sqlite", "migrate", "open_readonly"]
