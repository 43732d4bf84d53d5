"""The ``env`` backend and the environment override: ``<EXCHANGE>_API_KEY`` / ``<EXCHANGE>_API_SECRET``.

The variables are not per api env: when both are set they serve every api env of that exchange.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NoReturn

from mmexec.errors import SecretsError
from mmexec.secrets.credentials import (
    API_ENVS,
    KNOWN_EXCHANGES,
    ApiCredentials,
    SecretEntry,
    env_var_names,
)


def env_credentials(entry: SecretEntry, environ: Mapping[str, str] | None = None) -> ApiCredentials | None:
    """Credentials from the environment when *both* variables are set and non-empty, else ``None``."""
    env = os.environ if environ is None else environ
    key_var, secret_var = env_var_names(entry.exchange)
    key, secret = env.get(key_var, ""), env.get(secret_var, "")
    if not key.strip() or not secret.strip():
        return None
    return ApiCredentials(
        key, secret, exchange=entry.exchange, api_env=entry.api_env, source=f"env {key_var}, {secret_var}"
    )


def partially_set(exchange: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A hint when exactly one of the two variables is set (a common slip), else ``None``."""
    env = os.environ if environ is None else environ
    key_var, secret_var = env_var_names(exchange)
    has_key, has_secret = bool(env.get(key_var, "").strip()), bool(env.get(secret_var, "").strip())
    if has_key and not has_secret:
        return f"{key_var} is set but {secret_var} is not"
    if has_secret and not has_key:
        return f"{secret_var} is set but {key_var} is not"
    return None


class EnvBackend:
    """Read-only: saving or deleting says how to set the variables instead."""

    name = "env"
    writable = False

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def location(self) -> str:
        return "env backend"

    def load(self, entry: SecretEntry) -> ApiCredentials | None:
        return env_credentials(entry, self._environ)

    def save(self, entry: SecretEntry, api_key: str, api_secret: str) -> None:
        self._read_only(entry)

    def entries(self) -> list[SecretEntry]:
        return [
            SecretEntry(exchange, api_env)
            for exchange in KNOWN_EXCHANGES
            if env_credentials(SecretEntry(exchange, API_ENVS[0]), self._environ) is not None
            for api_env in API_ENVS
        ]

    def delete(self, entry: SecretEntry) -> bool:
        self._read_only(entry)

    def _read_only(self, entry: SecretEntry) -> NoReturn:
        raise read_only_error(entry.exchange)


def read_only_error(exchange: str) -> SecretsError:
    key_var, secret_var = env_var_names(exchange)
    return SecretsError(
        f"the env backend is read-only: set {key_var} and {secret_var} in the environment, "
        "or choose --backend file or --backend aws",
        source="backend env",
    )
