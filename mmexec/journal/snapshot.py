"""Checkpoints: the whole assembled run object graph, pickled (protocol 5), and a RESTRICTED unpickler.

Why pickle: the engine's internals (order store, risk, venue, ledger, PnL, the market's random generators)
keep changing; serialising them field by field would break with every change. Pickling the graph keeps every
piece of state, including each ``random.Random``'s exact position, so a resumed run continues bit for bit.

Why restricted: a journal is *data*, not code. A plain ``pickle.load`` can call any importable function, so a
crafted journal could run code. :class:`RestrictedUnpickler` resolves only *classes* (never functions) from
the state-holding packages of mmexec, plus a fixed set of standard containers and value types
(``decimal.Decimal``, ``random.Random``, ``collections`` containers, ``pathlib`` paths, ``builtins``
containers). Modules that do I/O when constructed (files, network, secrets) are refused.

Live objects that must not be stored (the journal itself, the CLI's listeners) are written by name and
re-attached on load (:func:`external`); a bound method is stored as (its object, its name) and rebuilt with
``getattr`` on the restored object (:func:`bound_method`) -- only for public names on objects of allowed
classes. These two helpers are the only functions the unpickler resolves.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import pickle
import signal
import types
from collections.abc import Mapping
from typing import Any

from mmexec._build import engine_build
from mmexec.journal.schema import JournalError

PROTOCOL = 5
# Every class of these packages (and of any module added under them later: new engine, venue, market or
# accounting state needs no change here) may be restored; a module is matched whole, never by a name prefix.
_STATE_PACKAGES = ("mmexec.engine", "mmexec.accounting", "mmexec.fees", "mmexec.exchanges", "mmexec.marketdata",
                   "mmexec.run", "mmexec.money", "mmexec.journal")
# ... except modules that do I/O or hold credentials (files, network, secrets, the command line).
_REFUSED_MODULES = ("mmexec.fees.fills_io", "mmexec.exchanges.bybit", "mmexec.marketdata.live", "mmexec.secrets",
                    "mmexec.artifacts", "mmexec.cli", "mmexec.config")
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
# The checkpoint's first pickle names the engine build that wrote it (compiled or pure Python: their slotted
# classes pickle differently, so a checkpoint resumes with its own build only); older checkpoints have none.
_BUILD_MARK = "mmexec.engine.build"
_LOADING: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar("mmexec_snapshot_externals")


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _allowed_module(module: str) -> bool:
    return _under(module, _STATE_PACKAGES) and not _under(module, _REFUSED_MODULES)


def external(name: str) -> object:
    """Unpickling helper: the live object registered under ``name`` for this load."""
    externals = _LOADING.get({})
    if name not in externals:
        raise JournalError(f"checkpoint refers to an external object {name!r} this run does not provide")
    return externals[name]


def bound_method(owner: object, name: str) -> object:
    """Unpickling helper: ``owner.name`` for a public method of a restored (or external) object."""
    is_external = any(owner is live for live in _LOADING.get({}).values())
    if not isinstance(name, str) or name.startswith("_") or not (
            is_external or _allowed_module(type(owner).__module__)):
        raise JournalError(f"checkpoint refers to a method {name!r} a journal may not load")
    return getattr(owner, name)


_HELPERS = {"external": external, "bound_method": bound_method}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only allowed classes (see the module docstring); anything else is a :class:`JournalError`."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _STDLIB.get(module)
        if allowed is not None:
            if name not in allowed:
                raise JournalError(f"checkpoint refers to {module}.{name}, which a journal may not load")
            return super().find_class(module, name)
        if module == __name__ and name in _HELPERS:
            return _HELPERS[name]
        if not _allowed_module(module):
            raise JournalError(f"checkpoint refers to {module}.{name}, which a journal may not load")
        found = super().find_class(module, name)
        if not isinstance(found, type):
            raise JournalError(f"checkpoint refers to {module}.{name}, which is not a class")
        return found


def dump_snapshot(graph: object, externals: Mapping[str, object] | None = None) -> bytes:
    """Pickle ``graph``; objects in ``externals`` (name -> live object) are stored by name only.

    Bound methods and externals are reduced through a per-pickler ``dispatch_table`` (looked up by type, in C),
    so the other objects of the graph cost no Python call each.
    """
    names = {id(obj): name for name, obj in (externals or {}).items()}

    def reduce_external(obj: object) -> Any:
        name = names.get(id(obj))
        if name is not None:
            return external, (name,)
        return obj.__reduce_ex__(PROTOCOL)

    def reduce_function(obj: types.FunctionType) -> Any:
        name = names.get(id(obj))
        return (external, (name,)) if name is not None else obj.__qualname__

    def reduce_method(obj: types.MethodType) -> Any:
        return bound_method, (obj.__self__, obj.__func__.__name__)

    def reduce_builtin_method(obj: types.BuiltinMethodType) -> Any:
        """A method of a compiled class (the mypyc build of the engine) is bound like a Python one."""
        owner = obj.__self__
        if owner is None or isinstance(owner, types.ModuleType):  # a built-in function: as pickle writes it
            return obj.__reduce_ex__(PROTOCOL)
        return bound_method, (owner, obj.__name__)

    table: dict[type, Any] = {types.MethodType: reduce_method, types.FunctionType: reduce_function,
                              types.BuiltinMethodType: reduce_builtin_method}
    for obj in (externals or {}).values():
        kind = type(obj)
        if kind not in table:
            table[kind] = reduce_external
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=PROTOCOL)
    pickler.dispatch_table = table
    pickler.dump((_BUILD_MARK, engine_build()))
    pickler.dump(graph)
    return buffer.getvalue()


class SnapshotProcess:
    """:func:`dump_snapshot` of ``graph`` in a forked child process, so pickling leaves this process's objects as
    they were; :meth:`poll` collects what the child has sent so far (True once complete), :meth:`result` waits.

    Why: on CPython 3.11, pickling an object reads its ``__dict__``, which turns the attributes the object kept
    inline into a dictionary for the rest of its life, and every attribute access on it costs more from then
    on (measured: the busy engine runs 16 % slower after one pickle of the run). The child, a copy-on-write
    image of this process at this instant, pickles its own copy of the graph, sends the bytes back through a
    pipe and exits; it closes every other file first, so the journal's lock and database stay this process's
    alone (a crash of this process releases the lock at once). The bytes are those :func:`dump_snapshot` gives
    at this instant, whatever this process does meanwhile. Without ``os.fork`` (not POSIX) the graph is pickled
    here, at once.
    """

    __slots__ = ("_chunks", "_data", "_fd", "_pid")

    def __init__(self, graph: object, externals: Mapping[str, object] | None = None) -> None:
        self._chunks: list[bytes] = []
        self._data: bytes | None = None
        self._fd = self._pid = -1
        if not hasattr(os, "fork"):
            self._data = dump_snapshot(graph, externals)
            return
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: pickle, send, exit without running any of the parent's cleanup
            _child(graph, externals, write_fd)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._fd, self._pid = read_fd, pid

    def poll(self) -> bool:
        """Read what the child has sent; True once the snapshot is complete (then :meth:`result` is immediate)."""
        while self._data is None:
            try:
                chunk = os.read(self._fd, 1 << 20)
            except BlockingIOError:
                return False
            if chunk:
                self._chunks.append(chunk)
            else:
                self._data = self._finish()
        return True

    def result(self) -> bytes:
        """The snapshot's bytes (waiting for the child if it is not done)."""
        if self._data is None:
            os.set_blocking(self._fd, True)
            self.poll()
        assert self._data is not None
        return self._data

    def abandon(self) -> None:
        """Stop the child if it is still at work (the run ended another way); nothing is read."""
        if self._data is None and self._pid > 0:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(self._fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._data = b""

    def _finish(self) -> bytes:
        os.close(self._fd)
        _, status = os.waitpid(self._pid, 0)
        message = b"".join(self._chunks)
        self._chunks.clear()
        if status or not message:
            raise RuntimeError(f"the checkpoint's snapshot process failed (wait status {status})")
        if message[0]:
            raise RuntimeError(f"the checkpoint's snapshot failed: {message[1:].decode(errors='replace')}")
        return message[1:]


def _child(graph: object, externals: Mapping[str, object] | None, write_fd: int) -> None:
    status = 1
    try:
        os.closerange(0, write_fd)
        os.closerange(write_fd + 1, _MAX_FD)
        try:
            message = b"\x00" + dump_snapshot(graph, externals)
        except Exception as exc:  # reported by the parent
            message = b"\x01" + f"{type(exc).__name__}: {exc}".encode()
        view = memoryview(message)
        while view:
            view = view[os.write(write_fd, view):]
        status = 0
    finally:
        os._exit(status)


def dump_snapshot_apart(graph: object, externals: Mapping[str, object] | None = None) -> bytes:
    """:func:`dump_snapshot` in a forked child (see :class:`SnapshotProcess`), waited for."""
    return SnapshotProcess(graph, externals).result()


_MAX_FD = 65_536


def load_snapshot(data: bytes, externals: Mapping[str, object] | None = None) -> Any:
    """Restore a graph written by :func:`dump_snapshot`, with the restricted unpickler."""
    token = _LOADING.set(externals or {})
    try:
        unpickler = RestrictedUnpickler(io.BytesIO(data))
        first = unpickler.load()
        if not (isinstance(first, tuple) and len(first) == 2 and first[0] == _BUILD_MARK):
            return first  # a checkpoint written before the build was recorded: the graph itself
        if first[1] != engine_build():
            raise JournalError(f"checkpoint was written by the {first[1]} engine, this one is {engine_build()}: "
                               "resume with the build that wrote it (docs/performance.md)")
        return unpickler.load()
    except JournalError:
        raise
    except Exception as exc:  # a damaged blob: pickle raises many types
        raise JournalError(f"checkpoint cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        _LOADING.reset(token)


__all__ = ["PROTOCOL", "RestrictedUnpickler", "SnapshotProcess", "dump_snapshot", "dump_snapshot_apart",
           "load_snapshot"]
