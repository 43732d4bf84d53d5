"""API credentials that mask themselves, the masking rule, and the names a credential is stored under.

The raw API secret is readable only through :meth:`ApiCredentials.reveal_secret`; ``repr``, ``str``,
``format`` and every error message show masked forms: the API key keeps its first three characters
(``test_key`` -> ``tes...***``, as the README specifies), the API secret shows none of its characters (``***``).
Importing this module is cheap (stdlib only): log code can import :func:`mask_secret` freely.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, NoReturn

from mmexec.errors import SecretsError

# Exchanges mmexec has credentials for. Add a name here to support another exchange.
KNOWN_EXCHANGES: tuple[str, ...] = ("bybit",)
# The api environments (``--api-env``): one credential per (exchange, api_env).
API_ENVS: tuple[str, ...] = ("dev", "shadow", "soak", "prod")

MASK_SUFFIX = "...***"
MASK_SHORT = "***"
SECRET_MASK = MASK_SHORT  # a masked API secret says only that it is set
MAX_VALUE_LENGTH = 4096


def mask_secret(value: str) -> str:
    """The loggable form of a secret: the first 3 characters + ``...***``; ``***`` under 4 characters."""
    if len(value) < 4:
        return MASK_SHORT
    return value[:3] + MASK_SUFFIX


class SecretEntry(NamedTuple):
    """One stored credential's name: compares equal to the plain tuple ``(exchange, api_env)``."""

    exchange: str
    api_env: str

    @property
    def key(self) -> str:
        """``exchange/api_env``, the name used in files and messages."""
        return f"{self.exchange}/{self.api_env}"


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def check_exchange(exchange: str, *, source: str | None = None) -> str:
    """The normalised exchange name, or a :class:`SecretsError` naming the known ones."""
    name = str(exchange).strip().lower()
    if name not in KNOWN_EXCHANGES:
        raise SecretsError(
            f"unknown exchange {str(exchange)[:40]!r} (expected one of: {_choices(KNOWN_EXCHANGES)})",
            source=source,
        )
    return name


def check_api_env(api_env: str, *, source: str | None = None) -> str:
    """The normalised api environment, or a :class:`SecretsError` naming dev / shadow / soak / prod."""
    name = str(api_env).strip().lower()
    if name not in API_ENVS:
        raise SecretsError(
            f"unknown api env {str(api_env)[:40]!r} (expected one of: {_choices(API_ENVS)})", source=source
        )
    return name


def check_entry(exchange: str, api_env: str) -> SecretEntry:
    return SecretEntry(check_exchange(exchange), check_api_env(api_env))


def check_value(value: object, what: str, *, source: str | None = None) -> str:
    """A credential value without surrounding whitespace; errors describe the problem, never the value."""
    if not isinstance(value, str):
        raise SecretsError(f"{what} must be a string, got {type(value).__name__}", source=source)
    cleaned = value.strip()
    if not cleaned:
        raise SecretsError(f"{what} is empty", source=source)
    if len(cleaned) > MAX_VALUE_LENGTH:
        raise SecretsError(f"{what} is longer than {MAX_VALUE_LENGTH} characters", source=source)
    if any(ch.isspace() or not ch.isprintable() for ch in cleaned):
        raise SecretsError(
            f"{what} contains whitespace or control characters (value not shown)", source=source
        )
    return cleaned


_ENV_UNSAFE = re.compile(r"[^A-Z0-9]")


def env_var_names(exchange: str) -> tuple[str, str]:
    """``("BYBIT_API_KEY", "BYBIT_API_SECRET")`` for ``bybit``: the README's variables, generalised."""
    prefix = _ENV_UNSAFE.sub("_", exchange.upper())
    return f"{prefix}_API_KEY", f"{prefix}_API_SECRET"


class ApiCredentials:
    """An API key and secret for one (exchange, api_env). Immutable; masks itself everywhere.

    ``api_key`` is the raw key (it goes into request headers); the secret is read with :meth:`reveal_secret`
    only. Copies return the same object and pickling is refused, so the secret is not serialised by accident.
    """

    __slots__ = ("_secret", "api_env", "api_key", "exchange", "source")

    exchange: str
    api_env: str
    api_key: str
    source: str
    _secret: str

    def __init__(
        self, api_key: str, api_secret: str, *, exchange: str = "", api_env: str = "", source: str = ""
    ) -> None:
        set_ = object.__setattr__
        set_(self, "api_key", check_value(api_key, "api key", source=source or None))
        set_(self, "_secret", check_value(api_secret, "api secret", source=source or None))
        set_(self, "exchange", exchange)
        set_(self, "api_env", api_env)
        set_(self, "source", source)

    @property
    def masked_api_key(self) -> str:
        return mask_secret(self.api_key)

    @property
    def masked_api_secret(self) -> str:
        """Always ``***``: not even a prefix of the secret is shown."""
        return SECRET_MASK

    def reveal_secret(self) -> str:
        """The raw API secret -- the only way to read it. Use it to sign, never to print or log."""
        return self._secret

    def with_source(self, source: str) -> ApiCredentials:
        return ApiCredentials(
            self.api_key, self._secret, exchange=self.exchange, api_env=self.api_env, source=source
        )

    def masked(self) -> dict[str, str]:
        """A JSON-able, masked description (for ``secrets show`` and logs)."""
        return {
            "exchange": self.exchange,
            "api_env": self.api_env,
            "api_key": self.masked_api_key,
            "api_secret": self.masked_api_secret,
            "source": self.source,
        }

    def __repr__(self) -> str:
        return (
            f"ApiCredentials(exchange={self.exchange!r}, api_env={self.api_env!r}, "
            f"api_key={self.masked_api_key!r}, api_secret={self.masked_api_secret!r}, source={self.source!r})"
        )

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiCredentials):
            return NotImplemented
        import hmac

        return (self.exchange, self.api_env, self.api_key) == (
            other.exchange,
            other.api_env,
            other.api_key,
        ) and hmac.compare_digest(self._secret.encode(), other._secret.encode())

    __hash__ = None  # type: ignore[assignment]

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("ApiCredentials is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("ApiCredentials is immutable")

    def __copy__(self) -> ApiCredentials:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ApiCredentials:
        return self

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("ApiCredentials cannot be pickled (it holds an API secret)")

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiCredentials cannot be pickled (it holds an API secret)")
