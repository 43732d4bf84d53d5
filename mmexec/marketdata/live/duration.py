"""Durations as operators type them: ``90s``, ``30m``, ``2h`` (also ``500ms``) -> integer milliseconds."""

from __future__ import annotations

import re

from mmexec.errors import ConfigError

_UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000}
_DURATION = re.compile(r"([0-9]+)(ms|s|m|h)")


def parse_duration_ms(text: str, *, source: str = "--duration") -> int:
    """``90s`` -> 90000. A positive whole number followed by ``ms``, ``s``, ``m`` or ``h``; else ConfigError."""
    match = _DURATION.fullmatch(text.strip().lower())
    value = int(match.group(1)) * _UNITS_MS[match.group(2)] if match else 0
    if value <= 0:
        raise ConfigError(f"invalid duration {text!r}: expected a positive whole number with a unit, "
                          "e.g. 90s, 30m or 2h", source=source)
    return value
