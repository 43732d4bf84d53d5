"""Checkpoints: the whole assembled run object graph, pickled (protocol 5), and a RESTRICTED unpickler.

Why pickle: the engine's internals (order store, risk, venue, ledger, PnL, the market's random generators)
keep changing; serialising them field by field would break with every change. Pickling the graph keeps every
piece of state, including each ``random.Random``'s exact position, so a resumed run continues bit for bit.

Why restricted: a journal is *data*, not code. A plain ``pickle.load`` can call any importable function, so a
crafted journal could run code. :class:`RestrictedUnpickler` resolves only *classes* (never functions) from
the state-holding packages of mmexec, plus a fixed set of standard containers and value types
(``decimal.Decimal``, ``random.Random``, ``collections`` containers, ``pathlib`` paths, ``builtins``
containers). Modules that do I/O when constructed (files, network, secrets) are refused.

Live objects that must not be stored (the journal itself, the CLI's listeners, bound methods) are written as
*persistent ids* (:class:`Externals`): a bound method is stored as (its object, its name) and rebuilt with
``getattr`` on the restored object -- only for public names on objects of allowed classes.
"""

from __future__ import annotations

import io
import pickle
import types
from collections.abc import Mapping
from typing import Any

from mmexec.journal.schema import JournalError

PROTOCOL = 5
_STATE_PACKAGES = ("mmexec.engine.", "mmexec.accounting.", "mmexec.fees.", "mmexec.exchanges.",
                   "mmexec.marketdata.", "mmexec.run.", "mmexec.money", "mmexec.journal.")
_REFUSED_MODULES = ("mmexec.fees.fills_io", "mmexec.exchanges.bybit", "mmexec.secrets", "mmexec.fsio",
                    "mmexec.cli", "mmexec.config")
_STDLIB: dict[str, frozenset[str]] = {
    "builtins": frozenset({"dict", "list", "tuple", "set", "frozenset", "bytearray", "bytes", "str", "int",
                           "float", "complex", "bool", "slice", "range"}),
    "collections": frozenset({"OrderedDict", "deque", "defaultdict", "Counter"}),
    "decimal": frozenset({"Decimal"}),
    "random": frozenset({"Random"}),
    "pathlib": frozenset({"Path", "PosixPath", "PurePosixPath"}),
    "copyreg": frozenset({"_reconstructor"}),
    "enum": frozenset(),
}
_METHOD = "m"
_EXTERNAL = "x"


def _allowed_module(module: str) -> bool:
    if module.startswith(_REFUSED_MODULES):
        return False
    return module.startswith(_STATE_PACKAGES) or module in {p.rstrip(".") for p in _STATE_PACKAGES}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only allowed classes (see the module docstring); anything else is a :class:`JournalError`."""

    def __init__(self, data: bytes, externals: Mapping[str, object]) -> None:
        super().__init__(io.BytesIO(data))
        self._externals = externals

    def find_class(self, module: str, name: str) -> Any:
        allowed = _STDLIB.get(module)
        if allowed is not None:
            if name not in allowed:
                raise JournalError(f"checkpoint refers to {module}.{name}, which a journal may not load")
            return super().find_class(module, name)
        if not _allowed_module(module):
            raise JournalError(f"checkpoint refers to {module}.{name}, which a journal may not load")
        found = super().find_class(module, name)
        if not isinstance(found, type):
            raise JournalError(f"checkpoint refers to {module}.{name}, which is not a class")
        return found

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 3 and pid[0] == _METHOD:
            _, owner, name = pid
            external = any(owner is live for live in self._externals.values())
            if not isinstance(name, str) or name.startswith("_") or not (
                    external or _allowed_module(type(owner).__module__)):
                raise JournalError(f"checkpoint refers to a method {name!r} a journal may not load")
            return getattr(owner, name)
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == _EXTERNAL and pid[1] in self._externals:
            return self._externals[pid[1]]
        raise JournalError(f"checkpoint refers to an external object {pid!r} this run does not provide")


class _SnapshotPickler(pickle.Pickler):
    def __init__(self, buffer: io.BytesIO, externals: Mapping[str, object]) -> None:
        super().__init__(buffer, protocol=PROTOCOL)
        self._by_id = {id(obj): name for name, obj in externals.items()}

    def persistent_id(self, obj: Any) -> Any:
        name = self._by_id.get(id(obj))
        if name is not None:
            return (_EXTERNAL, name)
        if isinstance(obj, types.MethodType):
            return (_METHOD, obj.__self__, obj.__name__)  # the owner is pickled (or is an external)
        return None


def dump_snapshot(graph: object, externals: Mapping[str, object] | None = None) -> bytes:
    """Pickle ``graph``; objects in ``externals`` (name -> live object) are stored by name only."""
    buffer = io.BytesIO()
    _SnapshotPickler(buffer, externals or {}).dump(graph)
    return buffer.getvalue()


def load_snapshot(data: bytes, externals: Mapping[str, object] | None = None) -> Any:
    """Restore a graph written by :func:`dump_snapshot`, with the restricted unpickler."""
    try:
        return RestrictedUnpickler(data, externals or {}).load()
    except JournalError:
        raise
    except Exception as exc:  # a damaged blob: pickle raises many types
        raise JournalError(f"checkpoint cannot be read ({type(exc).__name__}: {exc})") from None


__all__ = ["PROTOCOL", "RestrictedUnpickler", "dump_snapshot", "load_snapshot"]
