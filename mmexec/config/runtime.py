"""The environment variable for deterministic timestamps: ``MM_FREEZE_UTC_ISO`` (see the README)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from mmexec.errors import ConfigError

FREEZE_ENV = "MM_FREEZE_UTC_ISO"
# The accepted range: from the Unix epoch (timestamps are non-negative ms) to the last representable day.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def normalize_utc(text: str, source: str) -> str:
    """Validate an ISO-8601 timestamp with a UTC offset and return it as ``YYYY-MM-DDTHH:MM:SS[.fff]Z``."""
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ConfigError(
            f"invalid {FREEZE_ENV} {text!r}: expected ISO-8601 UTC like 2025-01-01T00:00:00Z", source=source
        ) from None
    if parsed.tzinfo is None:
        raise ConfigError(f"invalid {FREEZE_ENV} {text!r}: add a time zone (Z or +00:00)", source=source)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        parsed = EARLIEST - timedelta(days=1)
    if not EARLIEST <= parsed <= LATEST:
        raise ConfigError(
            f"invalid {FREEZE_ENV} {text!r}: out of range (1970-01-01T00:00:00Z to 9999-12-31T00:00:00Z)",
            source=source,
        )
    if parsed.microsecond:
        return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def frozen_utc(env: Mapping[str, str] | None = None) -> str | None:
    """The normalized value of ``MM_FREEZE_UTC_ISO`` if set (malformed -> ConfigError), else None."""
    value = (os.environ if env is None else env).get(FREEZE_ENV)
    if value is None or value == "":
        return None
    return normalize_utc(value, f"env {FREEZE_ENV}")
