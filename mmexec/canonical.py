"""Canonical JSON: the one byte format of every report and every ``--json`` output.

Sorted keys, compact separators, UTF-8, one trailing newline -- the same bytes as
``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\\n"`` for plain data.
``Decimal`` values (money, quantities) become JSON numbers here, at the edge, and nowhere earlier, written as
the *exact* decimal (never through a binary float): trailing zeros dropped, spelled the way Python spells a
float (``0.15``, ``7.0``, ``1e-05``, ``1.5e+16``), so a Decimal that a float holds exactly gets the bytes
``json.dumps`` would give that float, and one with more digits keeps them all (``2186925.49856273171527``).
Integers beyond 64 bits are written exactly too. NaN and infinities are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
# orjson prints floats below 1e-4 as 0.00001 / 1.5e-7; json.dumps (repr) prints 1e-05 / 1.5e-07.
_SMALL = 1e-4
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what orjson writes natively


class NonFiniteNumberError(ValueError):
    """A NaN or infinite number reached the JSON edge."""


def _float(value: float, path: str, fragments: bool = True) -> Any:
    if not math.isfinite(value):
        raise NonFiniteNumberError(f"refusing to write non-finite number {value!r} at {path or '<root>'}")
    if fragments and value != 0.0 and abs(value) < _SMALL:
        return orjson.Fragment(repr(value))
    return value


def decimal_text(value: Decimal) -> str:
    """The exact JSON spelling of a finite Decimal (see the module docstring)."""
    if value == 0:
        return "0.0"
    sign, digits, exponent = value.as_tuple()
    full = "".join(map(str, digits)).lstrip("0")
    text = full.rstrip("0")
    adjusted = len(full) - 1 + int(exponent)
    minus = "-" if sign else ""
    if -4 <= adjusted < 16:  # positional, like repr(float)
        if adjusted < 0:
            return f"{minus}0.{'0' * (-adjusted - 1)}{text}"
        whole, frac = text[: adjusted + 1].ljust(adjusted + 1, "0"), text[adjusted + 1 :]
        return f"{minus}{whole}.{frac or '0'}"
    mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
    return f"{minus}{mantissa}e{'-' if adjusted < 0 else '+'}{abs(adjusted):02d}"


def decimal_to_number(value: Decimal, path: str = "", fragments: bool = True) -> Any:
    """An exact Decimal as a JSON number: an exact fragment for the canonical writer, or (``fragments=False``,
    plain data for ``json.dumps`` and API callers) the nearest float."""
    if not value.is_finite():
        raise NonFiniteNumberError(f"refusing to write non-finite number {value} at {path or '<root>'}")
    if fragments:
        return orjson.Fragment(decimal_text(value))
    if value == 0:
        return 0.0
    return _float(float(value), path, fragments)


def to_jsonable(obj: Any, path: str = "", *, fragments: bool = True) -> Any:
    """Return a structure orjson can write: Decimals as numbers, enums as values, tuples as lists.

    With ``fragments=False`` the result is plain Python data (for ``json.dumps`` and API callers); with the
    default, tiny floats are pre-formatted the way ``json.dumps`` would print them.
    """
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return orjson.Fragment(str(obj)) if fragments and not _INT_MIN <= obj <= _INT_MAX else obj
    if isinstance(obj, float):
        return _float(obj, path, fragments)
    if isinstance(obj, Decimal):
        return decimal_to_number(obj, path, fragments)
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {type(key).__name__} at {path or '<root>'}")
            out[key] = to_jsonable(value, f"{path}.{key}" if path else key, fragments=fragments)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{path}[{i}]", fragments=fragments) for i, v in enumerate(obj)]
    if isinstance(obj, Enum):
        return to_jsonable(obj.value, path, fragments=fragments)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON at {path or '<root>'}")


def dumps(obj: Any) -> bytes:
    """Canonical JSON bytes of ``obj`` (with the trailing newline)."""
    return orjson.dumps(to_jsonable(obj), option=_OPTIONS)


def dumps_str(obj: Any) -> str:
    return dumps(obj).decode("utf-8")


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
