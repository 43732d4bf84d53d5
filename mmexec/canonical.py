"""Canonical JSON: the one byte format of every report and every ``--json`` output.

Sorted keys, compact separators, UTF-8, one trailing newline -- the same bytes as
``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\\n"``.
``Decimal`` values (money, quantities) become JSON numbers here, at the edge, and nowhere earlier.
NaN and infinities are refused.
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


class NonFiniteNumberError(ValueError):
    """A NaN or infinite number reached the JSON edge."""


def _float(value: float, path: str, fragments: bool = True) -> Any:
    if not math.isfinite(value):
        raise NonFiniteNumberError(f"refusing to write non-finite number {value!r} at {path or '<root>'}")
    if fragments and value != 0.0 and abs(value) < _SMALL:
        return orjson.Fragment(repr(value))
    return value


def decimal_to_number(value: Decimal, path: str = "", fragments: bool = True) -> Any:
    """Convert an exact Decimal to the JSON number a reader sees (a float, shortest round-trip form)."""
    if not value.is_finite():
        raise NonFiniteNumberError(f"refusing to write non-finite number {value} at {path or '<root>'}")
    if value == 0:
        return 0.0
    return _float(float(value), path, fragments)


def to_jsonable(obj: Any, path: str = "", *, fragments: bool = True) -> Any:
    """Return a structure orjson can write: Decimals as numbers, enums as values, tuples as lists.

    With ``fragments=False`` the result is plain Python data (for ``json.dumps`` and API callers); with the
    default, tiny floats are pre-formatted the way ``json.dumps`` would print them.
    """
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
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
