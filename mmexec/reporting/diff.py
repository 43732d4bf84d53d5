"""Semantic comparison of two reports (``mmexec report diff``): a pure library, no terminal, no CLI.

Path syntax (used in every difference and in ``--ignore`` patterns):

* object keys are joined with dots: ``positions.by_symbol.BTCUSDT``;
* list items are written by index in brackets: ``orders.items[3].price``;
* a key that is not plain ASCII ``[A-Za-z0-9_-]+`` (it contains a dot, a bracket, a quote, spaces, non-ASCII
  characters, or is empty) is written as a JSON string in brackets: ``positions.by_symbol["BTC.USDT"]``,
  ``fees["café"]``. So ``a.b`` is always two keys, ``["a.b"]`` one key, ``x.3`` the key ``"3"`` and ``x[3]``
  an index.

Patterns use the same syntax plus wildcards that stand for whole segments: ``*`` (exactly one segment, key or
index), ``[*]`` (exactly one list index) and ``**`` (any number of segments, including none). A pattern that
matches a path ignores everything below it too. Patterns may also write a non-ASCII key bare (``fees.café``);
``["*"]`` is the literal key ``*``.

Values compare by meaning: numbers by exact decimal value (``1`` == ``1.0``; JSON numbers are parsed as
``Decimal``, never through binary floats), ``true`` is not ``1``, and a change of type is a ``changed``
difference at that path (nothing below it is reported). Walking both documents is one pass over each.
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from enum import StrEnum
from itertools import chain, islice, repeat
from typing import Any, Final

from mmexec.errors import ConfigError, InputError
from mmexec.json_input import JsonInputError, display_name, loads_strict, read_input
from mmexec.reporting.paths import IgnorePatterns, PathNode, PatternStates, Segment, Token, format_path, parse_pattern

Number = int | float | Decimal
__all__ = [
    "DiffKind", "Difference", "IgnorePatterns", "Segment", "Token", "diff_reports", "ensure_differences_writable",
    "ensure_writable", "format_path", "json_type", "load_report", "parse_pattern", "parse_report", "tolerance",
]


class DiffKind(StrEnum):
    ADDED = "added"  # only in B
    REMOVED = "removed"  # only in A
    CHANGED = "changed"  # in both, different value or type


@dataclass(frozen=True, slots=True)
class Difference:
    """One path whose value differs; ``a`` / ``b`` are ``None`` on the side where it is absent (see ``kind``).

    ``abs_change`` (``b - a``) and ``rel_change`` (``(b - a) / |a|``, a fraction, ``None`` when ``a == 0``)
    are set only when both sides are numbers; :meth:`to_json` writes them exactly.
    """

    path: str
    kind: DiffKind
    a: Any
    b: Any
    abs_change: Number | None = None
    rel_change: Decimal | None = None
    segments: tuple[Segment, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "segments": list(self.segments),
            "kind": self.kind.value,
            "a": self.a,
            "b": self.b,
            "abs_change": self.abs_change,
            "rel_change": self.rel_change,
        }


# --------------------------------------------------------------------------------------------- loading



@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of containers are built or walked: it would rescan
    the growing heap again and again (measured: loading 50 MB took 1.5 s without it, up to 6 s with it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024  # 64 MiB; ``--max-input-size`` raises it


def load_report(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                size_flag: str = "--max-input-size") -> dict[str, Any]:
    """Read a report (``-`` is stdin): a JSON object of at most ``max_bytes``. Numbers become ``int`` /
    ``Decimal`` (exact, bounded), nesting is bounded (:mod:`mmexec.json_input`); any problem is an
    :class:`InputError` naming the file."""
    raw = read_input(path, what="report", max_bytes=max_bytes, flag=size_flag)
    return parse_report(raw, source=display_name(os.fspath(path)))


def parse_report(raw: bytes, *, source: str) -> dict[str, Any]:
    """The report in ``raw`` (the bytes of a report file), read like :func:`load_report` reads a file."""
    try:
        with _gc_paused():
            doc = loads_strict(raw)
    except JsonInputError as exc:
        raise InputError(f"report {exc.verb} {exc}", source=source) from None
    if not isinstance(doc, dict):
        kind = _json_type(doc)
        raise InputError(f"report must be a JSON object at the top level, not {kind}", source=source)
    return doc


def ensure_writable(value: Any, source: str, at: tuple[Segment, ...] = ()) -> None:
    """Refuse (:class:`InputError` naming ``source``) what canonical JSON cannot write: strings with lone
    surrogates (``"\\ud800"`` parses), non-finite floats (numbers read from files are bounded and exact, and
    written exactly). Checked on what is written, not on load: a 50 MB report costs nothing extra unless it is
    shown."""
    stack: list[tuple[Any, PathNode]] = [(value, None)]
    while stack:
        item, node = stack.pop()
        kind = type(item)
        problem = ""
        if kind is dict:
            for key, child in item.items():
                if not _encodable(key):
                    problem = "an object key that is not valid Unicode"
                    break
                stack.append((child, (node, key)))
        elif kind is list:
            stack.extend((child, (node, i)) for i, child in enumerate(item))
        elif kind is str and not _encodable(item):
            problem = "a string that is not valid Unicode"
        elif kind is float and not math.isfinite(item):
            problem = "a number out of range"
        if problem:
            where = format_path((*at, *_segments(node))) or "the top level"
            raise InputError(f"report has {problem} at {where}", source=source)


def ensure_differences_writable(differences: Iterable[Difference], a_source: str, b_source: str) -> None:
    """:func:`ensure_writable` for every path and value of ``differences`` (A's from ``a_source``, B's from
    ``b_source``): the cost is that of writing them."""
    for d in differences:
        for i, seg in enumerate(d.segments):
            if type(seg) is str and not _encodable(seg):
                where = format_path(d.segments[:i]) or "the top level"
                source = b_source if d.kind is DiffKind.ADDED else a_source
                raise InputError(f"report has an object key that is not valid Unicode at {where}", source=source)
        if d.kind is not DiffKind.ADDED:
            ensure_writable(d.a, a_source, d.segments)
        if d.kind is not DiffKind.REMOVED:
            ensure_writable(d.b, b_source, d.segments)


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, _NUMBERS):
        return "a number"
    if value is None:
        return "null"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


# ---------------------------------------------------------------------------------------- comparison

# Exact for numbers within 100 digits of each other (doubles have 17), never slow, never overflows.
_WIDE = Context(prec=100, Emax=MAX_EMAX, Emin=MIN_EMIN)
_REL = Context(prec=28, Emax=MAX_EMAX, Emin=MIN_EMIN)
_NUMBERS = (int, float, Decimal)  # bool is not a number here: type(True) is bool
_ABSENT: Final = object()  # a key / index missing on the B side


def tolerance(value: str | Decimal | None, name: str, source: str) -> Decimal | None:
    """A tolerance as a non-negative finite Decimal (``None`` stays ``None``); else :class:`ConfigError`."""
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ConfigError(f"invalid {name} {str(value)!r}: must be a non-negative finite number", source=source)
    return number


@dataclass(frozen=True, slots=True)
class _Tolerance:
    abs_tol: Decimal | None
    rel_tol: Decimal | None

    def equal(self, delta: Decimal, a: Decimal, b: Decimal) -> bool:
        size = abs(delta)
        if self.abs_tol is not None and size <= self.abs_tol:
            return True
        if self.rel_tol is None:
            return False
        return size <= _WIDE.multiply(self.rel_tol, max(abs(a), abs(b)))


def _dec(x: Number) -> Decimal:
    """A number as the Decimal it was written as (a float by its shortest repr, as JSON wrote it)."""
    return Decimal(repr(x)) if type(x) is float else Decimal(x)


def diff_reports(
    a: dict[str, Any],
    b: dict[str, Any],
    ignore: Iterable[str] | IgnorePatterns = (),
    abs_tol: Decimal | None = None,
    rel_tol: Decimal | None = None,
) -> list[Difference]:
    """Every path whose value differs between ``a`` and ``b``, sorted by path (keys by code point; indices).

    Numbers within ``abs_tol`` (``|b - a| <= abs_tol``) or ``rel_tol`` (``|b - a| <= rel_tol * max(|a|,|b|)``)
    count as equal. Paths matching an ``ignore`` pattern (and everything below them) are skipped.
    """
    tol = _Tolerance(
        tolerance(abs_tol, "abs_tol", "argument abs_tol"), tolerance(rel_tol, "rel_tol", "argument rel_tol")
    )
    matcher = ignore if isinstance(ignore, IgnorePatterns) else IgnorePatterns(ignore)
    with _gc_paused():  # the walk allocates a path node per value
        found = _walk(a, b, matcher, tol)
    out = []
    for where, kind, xa, xb, delta, rel in found:
        segments = _segments(where)
        out.append(Difference(format_path(segments), kind, xa, xb, delta, rel, segments))
    out.sort(key=lambda d: d.segments)
    return out


_Found = tuple[PathNode, DiffKind, Any, Any, Number | None, Decimal | None]


def _walk(a: dict[str, Any], b: dict[str, Any], matcher: IgnorePatterns, tol: _Tolerance) -> list[_Found]:
    """Both documents side by side, iteratively, one pass; path strings are built only for differences."""
    found: list[_Found] = []
    stack: list[tuple[Any, Any, PathNode, PatternStates | None]] = [(a, b, None, matcher.start)]
    while stack:  # every pushed pair is two dicts or two lists
        va, vb, node, states = stack.pop()
        # (segment, A's value, B's value or _ABSENT) triples and B's extra segments, from C-level iterators.
        pairs: Iterable[tuple[Segment, Any, Any]]
        added: Iterable[Segment]
        if type(va) is dict:
            pairs = zip(va, va.values(), map(vb.get, va, repeat(_ABSENT)), strict=True)
            added = vb.keys() - va.keys() if vb.keys() != va.keys() else ()
        else:
            na, nb = len(va), len(vb)
            pairs = zip(range(na), va, chain(islice(vb, na), repeat(_ABSENT, na - nb)), strict=True)
            added = range(na, nb)
        for seg, xa, xb in pairs:
            child_states = states
            if states is not None:
                child_states, ignored = matcher.step(states, seg)
                if ignored:
                    continue
            ta, tb = type(xa), type(xb)
            if ta is tb:
                if ta is dict or ta is list:
                    stack.append((xa, xb, (node, seg), child_states))
                    continue
                if xa == xb:
                    continue
            child = (node, seg)
            if xb is _ABSENT:
                found.append((child, DiffKind.REMOVED, xa, None, None, None))
            elif ta in _NUMBERS and tb in _NUMBERS:
                da, db = _dec(xa), _dec(xb)
                if da == db:  # 1 and 1.0
                    continue
                exact = _WIDE.subtract(db, da)
                if tol.equal(exact, da, db):
                    continue
                delta: Number = xb - xa if ta is int and tb is int else exact
                rel = None if da == 0 else _REL.divide(exact, abs(da))
                found.append((child, DiffKind.CHANGED, xa, xb, delta, rel))
            else:  # other value of the same type, or another type
                found.append((child, DiffKind.CHANGED, xa, xb, None, None))
        for seg in added:
            if states is None or not matcher.step(states, seg)[1]:
                found.append(((node, seg), DiffKind.ADDED, None, vb[seg], None, None))
    return found


def _segments(node: PathNode) -> tuple[Segment, ...]:
    parts: list[Segment] = []
    while node is not None:
        parent, seg = node
        parts.append(seg)
        node = parent
    return tuple(reversed(parts))


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value: object, array, string, number, boolean or null."""
    return _json_type(value).removeprefix("a ").removeprefix("an ")
