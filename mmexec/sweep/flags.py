"""The run flags of ``mmexec sweep``: every run settings key as ``--flag-name VALUE``, plus ``--data FILE…``.

The sweep does not declare the run flags one by one: it accepts whatever keys the run settings model has, so a
new run setting (``--market replay`` …) is a sweep flag as soon as it exists. Booleans take ``--key`` /
``--no-key``; a repeated flag becomes a list (``--ref-price A=1 --ref-price B=2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mmexec.errors import ConfigError
from mmexec.sweep.grid import DATA_KEY, did_you_mean

DATA_FLAG = "--data"


def _is_bool(field: Any) -> bool:
    return field.annotation in (bool, bool | None)


def parse_run_flags(args: Sequence[str], fields: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``["--iterations", "200", "--data", "a.gz", "b.gz"]`` -> ({"iterations": "200"}, ["a.gz", "b.gz"])."""
    flags: dict[str, Any] = {}
    data: list[str] = []
    names = sorted("--" + k.replace("_", "-") for k in fields)
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if not word.startswith("--") or len(word) == 2:
            raise ConfigError(f"unexpected argument {word!r} (run flags look like --iterations 200)",
                              source="command line")
        name, eq, inline = word.partition("=")
        if name == DATA_FLAG:
            files = [inline] if eq else []
            while i < len(args) and not args[i].startswith("--"):
                files.append(args[i])
                i += 1
            if not files:
                raise ConfigError("--data needs at least one FILE", source=DATA_FLAG)
            data.extend(files)
            continue
        key = name[2:].replace("-", "_")
        negated = key.startswith("no_") and key[3:] in fields and _is_bool(fields[key[3:]])
        if negated:
            flags[key[3:]] = False
            continue
        if key not in fields or key == DATA_KEY:
            raise ConfigError(f"unknown run flag {name}{did_you_mean(name, [*names, DATA_FLAG])}", source=name)
        if _is_bool(fields[key]) and not eq:
            flags[key] = True
            continue
        if not eq:
            if i >= len(args):
                raise ConfigError(f"{name} needs a value", source=name)
            inline = args[i]
            i += 1
        if key in flags:
            previous = flags[key]
            flags[key] = [*previous, inline] if isinstance(previous, list) else [previous, inline]
        else:
            flags[key] = inline
    if len(set(data)) != len(data):
        raise ConfigError("a data file is given twice", source=DATA_FLAG)
    return flags, data
