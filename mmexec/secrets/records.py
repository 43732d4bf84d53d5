"""The stored form of one credential, shared by the ``file`` and ``aws`` backends.

Both keep a credential as the JSON object ``{"api_key": "...", "api_secret": "..."}``: this module builds that
record, recognises it, turns it back into :class:`ApiCredentials`, and parses stored JSON strictly (no ``NaN``
or ``Infinity``, no number beyond a 64-bit integer or a float, bounded nesting) so a damaged store is a clear
error, never an internal one, and every value read can be written back (a save rewrites the whole file).
Reasons describe the structure only: stored text may hold secrets.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn, TypeGuard

from mmexec.secrets.credentials import ApiCredentials, SecretEntry

API_KEY = "api_key"
API_SECRET = "api_secret"  # noqa: S105 -- a field name, not a password
# The integers the canonical JSON writer can write back (orjson: signed and unsigned 64-bit).
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


class StoredJsonError(ValueError):
    """Stored JSON that mmexec refuses; ``reason`` completes "the secrets file ...", "secret X ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_constant(name: str) -> NoReturn:
    raise StoredJsonError("is not valid JSON: NaN and Infinity are not JSON numbers")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StoredJsonError("holds a number out of range")
    return value


def _bounded_int(text: str) -> int:
    # The length check comes first: a 5,000-digit integer is refused without converting it.
    if len(text) > 21 or not _INT_MIN <= (value := int(text)) <= _INT_MAX:
        raise StoredJsonError("holds a number out of range")
    return value


def parse_stored_json(raw: bytes | str) -> Any:
    """The parsed document, or :class:`StoredJsonError` (invalid, NaN/Infinity, out of range, too deep)."""
    import json

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except StoredJsonError:
        raise
    except RecursionError:
        raise StoredJsonError("is nested too deeply to be an mmexec secrets store") from None
    except (UnicodeDecodeError, ValueError):
        raise StoredJsonError("is not valid JSON") from None


def credential_record(api_key: str, api_secret: str) -> dict[str, str]:
    """The JSON object one credential is stored as."""
    return {API_KEY: api_key, API_SECRET: api_secret}


def is_credential_record(value: object) -> TypeGuard[dict[str, Any]]:
    """``True`` for an object holding ``api_key`` and ``api_secret`` strings."""
    return (
        isinstance(value, dict)
        and isinstance(value.get(API_KEY), str)
        and isinstance(value.get(API_SECRET), str)
    )


def credentials_from_record(value: object, entry: SecretEntry, *, source: str) -> ApiCredentials | None:
    """The credentials a stored record holds (validated by :class:`ApiCredentials`), ``None`` if not a record."""
    if not is_credential_record(value):
        return None
    return ApiCredentials(
        value[API_KEY],
        value[API_SECRET],
        exchange=entry.exchange,
        api_env=entry.api_env,
        source=source,
    )
