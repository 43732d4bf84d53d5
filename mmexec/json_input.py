"""Reading JSON that people hand us (reports, fills lines, fee profiles): one strict, bounded loader.

- **Size**: :func:`read_input` reads a file, or stdin for ``-``, in bounded chunks and stops as soon as the
  input passes ``max_bytes`` (``/dev/zero`` fails at once instead of filling memory).
- **Depth**: at most :data:`MAX_DEPTH` nested arrays/objects; deeper input is an error, never a
  ``RecursionError`` (the decoder runs under a recursion limit just above the allowed depth).
- **Numbers** are exact: integers stay ``int``, the others become ``Decimal`` (never a binary float). A number
  may have at most :data:`MAX_NUMBER_CHARS` characters and, unless zero, a decimal exponent (of its first
  digit) within ``±MAX_EXPONENT``: ``1e999999999`` or a 5,000-digit integer is an error, not a hang.
- ``NaN``, ``Infinity`` and ``-Infinity`` are refused.

Errors are :class:`JsonInputError` (a ``ValueError``) with a message and, where known, a line number; callers
turn them into an :class:`mmexec.errors.InputError` that names the file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Final

from mmexec.errors import InputError

MAX_DEPTH: Final = 128
MAX_NUMBER_CHARS: Final = 100
MAX_EXPONENT: Final = 400
CHUNK: Final = 1 << 20
STDIN: Final = "-"
MIB: Final = 1 << 20


class JsonInputError(ValueError):
    """Input that is not (acceptable) JSON; ``line`` is 1-based when known."""

    def __init__(self, message: str, *, verb: str = "is", line: int | None = None) -> None:
        super().__init__(message)
        self.verb = verb  # "report {verb} {message}": "report is not valid JSON: ...", "report has a number ..."
        self.line = line


_RANGE = f"at most {MAX_NUMBER_CHARS} characters and a magnitude within 1e±{MAX_EXPONENT}"


def _out_of_range(text: str) -> JsonInputError:
    shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"
    return JsonInputError(f"a number out of range: {shown} ({_RANGE})", verb="has")


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _out_of_range(text)
    return int(text)


def _decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise _out_of_range(text)
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold
        raise _out_of_range(text) from None
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise _out_of_range(text)
    return value


def _constant(name: str) -> Any:
    raise JsonInputError(f"not valid JSON: {name} is not a JSON number")


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth


def loads_strict(text: str | bytes, *, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
                 one_line: bool = False) -> Any:
    """Parse one JSON document under the rules above; raises :class:`JsonInputError`. ``one_line``: the
    document is a line of a JSON Lines file (errors give the column only)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"not valid UTF-8 (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    old_limit = sys.getrecursionlimit()
    # The C decoder counts one level of recursion per nested container against this limit.
    sys.setrecursionlimit(_stack_depth() + MAX_DEPTH + 8)
    try:
        return json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_constant,
                          object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise JsonInputError(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        where = f"column {exc.colno}" if one_line else f"line {exc.lineno} column {exc.colno}"
        raise JsonInputError(f"not valid JSON: {exc.msg} at {where}", line=exc.lineno) from None
    finally:
        sys.setrecursionlimit(old_limit)


def display_name(path: str) -> str:
    """How an input argument is named in messages: ``<stdin>`` for ``-``."""
    return "<stdin>" if path == STDIN else path


def read_input(path: str | os.PathLike[str], *, what: str, max_bytes: int, flag: str) -> bytes:
    """The bytes of ``path`` (stdin for ``-``), read in chunks; more than ``max_bytes`` is an
    :class:`InputError` naming ``flag`` (the option that raises the cap). ``what`` names the input
    ("report") in messages."""
    name = os.fspath(path)
    source = display_name(name)
    if name == STDIN:
        return _read_capped(sys.stdin.buffer, source, what, max_bytes, flag)
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise InputError(f"{what} file does not exist", source=source) from None
    except IsADirectoryError:
        raise InputError(f"{what} path is a directory, not a file", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read {what} file: {exc.strerror or exc}", source=source) from None
    with handle:
        return _read_capped(handle, source, what, max_bytes, flag)


def _read_capped(handle: IO[bytes], source: str, what: str, max_bytes: int, flag: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = handle.read(min(CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise InputError(f"{what} file is larger than {describe_size(max_bytes)} (raise the cap with {flag})",
                                 source=source)
    except IsADirectoryError:
        raise InputError(f"{what} path is a directory, not a file", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read {what} file: {exc.strerror or exc}", source=source) from None
    return b"".join(chunks)


def describe_size(size: int) -> str:
    return f"{size // MIB} MiB" if size % MIB == 0 else f"{size} bytes"


def parse_size(value: str, *, flag: str) -> int:
    """A byte count from a flag: a positive integer, optionally with ``K``/``M``/``G`` (binary units)."""
    from mmexec.errors import ConfigError

    text = value.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15 or int(digits) <= 0:
        raise ConfigError(f"invalid size {value!r}: a positive whole number, optionally with K, M or G",
                          source=f"flag {flag}")
    return int(digits) * scale
