"""Which build of the engine is installed: compiled with mypyc, or pure Python.

A wheel built by ``pip install .`` on a machine with a C compiler carries the engine's hot modules as extension
modules (``hatch_build.py``); an editable install, ``MMEXEC_PURE_PYTHON=1`` or a machine without a compiler gives
the pure-Python build. ``mmexec --version`` and the benchmarks say which one runs.
"""

from __future__ import annotations

from functools import cache
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec

# One of the compiled modules (the list is in pyproject.toml): the builds compile all of them or none.
PROBE_MODULE = "mmexec.engine.loop"
COMPILED = "compiled (mypyc)"
PURE = "pure Python"


@cache
def engine_compiled() -> bool:
    """True if the engine's hot modules are extension modules (found, not imported)."""
    spec = find_spec(PROBE_MODULE)
    origin = spec.origin if spec is not None else None
    return origin is not None and origin.endswith(tuple(EXTENSION_SUFFIXES))


def engine_build() -> str:
    """``"compiled (mypyc)"`` or ``"pure Python"``."""
    return COMPILED if engine_compiled() else PURE
