"""``SecretProvider``: save, read, list and delete API credentials per (exchange, api_env).

Lookup order of :meth:`SecretProvider.get_credentials`:

1. ``<EXCHANGE>_API_KEY`` and ``<EXCHANGE>_API_SECRET`` (e.g. ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET``) when
   *both* are set and non-empty -- they serve every api env of that exchange;
2. otherwise the configured backend: ``memory`` (in-process), ``env`` (the variables only, read-only),
   ``file`` (``$XDG_CONFIG_HOME/mmexec/secrets.json`` by default) or ``aws`` (Secrets Manager).

Nothing found is a :class:`~mmexec.errors.SecretsError` that says how to provide the credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mmexec.errors import SecretsError
from mmexec.secrets.base import SecretsBackend
from mmexec.secrets.credentials import (
    API_ENVS,
    KNOWN_EXCHANGES,
    ApiCredentials,
    SecretEntry,
    check_entry,
    check_value,
    env_var_names,
    mask_secret,
)
from mmexec.secrets.env import env_credentials, partially_set

if TYPE_CHECKING:
    from mmexec.config.files import ConfigFile
    from mmexec.config.secrets import SecretsSettings

BACKENDS: tuple[str, ...] = ("memory", "env", "file", "aws")
EntryList = list[SecretEntry]
NameList = list[str]  # (the method SecretProvider.list shadows the builtin inside the class)

__all__ = [
    "API_ENVS",
    "BACKENDS",
    "KNOWN_EXCHANGES",
    "ApiCredentials",
    "SecretEntry",
    "SecretProvider",
    "SecretsError",
    "mask_secret",
]


def _make_backend(
    backend: str,
    *,
    path: str | os.PathLike[str] | None,
    region: str | None,
    endpoint_url: str | None,
    environ: Mapping[str, str] | None,
    aws_client_config: Mapping[str, Any] | None,
) -> SecretsBackend:
    if backend == "memory":
        from mmexec.secrets.memory import MemoryBackend

        return MemoryBackend()
    if backend == "env":
        from mmexec.secrets.env import EnvBackend

        return EnvBackend(environ)
    if backend == "file":
        from mmexec.secrets.file import FileBackend

        return FileBackend(path, environ)
    if backend == "aws":
        from mmexec.secrets.aws import AwsBackend

        return AwsBackend(region, endpoint_url, client_config=aws_client_config, environ=environ)
    raise SecretsError(
        f"unknown secrets backend {str(backend)[:40]!r} (expected one of: {', '.join(BACKENDS)})",
        source="backend",
    )


class SecretProvider:
    """API credentials per (exchange, api_env) from the environment or one backend.

    ``SecretProvider(backend="memory")``, ``"env"``, ``"file"`` (``path=None``: the default location) or
    ``"aws"`` (``region=``, ``endpoint_url=``; needs ``mmexec[aws]``). ``environ`` replaces ``os.environ`` for
    the ``<EXCHANGE>_API_*`` lookup, the default secrets file and ``AWS_REGION`` / ``AWS_DEFAULT_REGION``;
    ``env_override=False`` consults the backend only.
    """

    def __init__(
        self,
        backend: str = "file",
        *,
        path: str | os.PathLike[str] | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        env_override: bool = True,
        aws_client_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.backend_name = str(backend).strip().lower()
        self._environ = environ
        self.env_override = env_override
        self.backend: SecretsBackend = _make_backend(
            self.backend_name,
            path=path,
            region=region,
            endpoint_url=endpoint_url,
            environ=environ,
            aws_client_config=aws_client_config,
        )

    @classmethod
    def from_settings(cls, settings: SecretsSettings, **kwargs: Any) -> SecretProvider:
        """A provider for the ``[secrets]`` settings (backend, file, aws_region, aws_endpoint_url)."""
        return cls(
            settings.backend,
            path=settings.file,
            region=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
            **kwargs,
        )

    @classmethod
    def from_config(
        cls,
        config_file: ConfigFile | None = None,
        flags: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> SecretProvider:
        """A provider from flags > ``MMEXEC_SECRETS__*`` > ``[secrets]`` of ``config_file`` > defaults."""
        from mmexec.config.base import load_settings
        from mmexec.config.secrets import SecretsSettings

        loaded = load_settings(SecretsSettings, flags, config_file)
        return cls.from_settings(loaded.settings, **kwargs)

    def location(self) -> str:
        """Where the backend keeps credentials (``file /path``, ``aws secretsmanager ...``)."""
        return self.backend.location()

    def __repr__(self) -> str:
        return f"SecretProvider(backend={self.backend_name!r}, location={self.location()!r})"

    # --- reading ------------------------------------------------------------------------------------
    def find(self, exchange: str, api_env: str, *, use_env: bool | None = None) -> ApiCredentials | None:
        """The credentials by the lookup order, or ``None``. ``use_env=False`` skips the environment."""
        entry = check_entry(exchange, api_env)
        if self.env_override if use_env is None else use_env:
            from_env = env_credentials(entry, self._environ)
            if from_env is not None:
                return from_env
        return self.backend.load(entry)

    def get_credentials(self, exchange: str, api_env: str) -> ApiCredentials:
        """The credentials by the lookup order; a :class:`SecretsError` saying how to provide them if none."""
        entry = check_entry(exchange, api_env)
        found = self.find(*entry)
        if found is not None:
            return found
        key_var, secret_var = env_var_names(entry.exchange)
        command = f"mmexec secrets save --exchange {entry.exchange} --env {entry.api_env}"
        if self.backend_name in ("file", "aws"):
            command += f" --backend {self.backend_name}"
        hint = partially_set(entry.exchange, self._environ)
        message = (
            f"no API credentials for {entry.key}: set {key_var} and {secret_var}, or run `{command}`"
            + (f" ({hint})" if hint else "")
        )
        raise SecretsError(message, source=self.location())

    def list(self) -> EntryList:
        """Every (exchange, api_env) the backend holds, by exchange, then dev / shadow / soak / prod."""
        return sorted(set(self.backend.entries()), key=lambda e: (e.exchange, API_ENVS.index(e.api_env)))

    def env_overrides(self) -> NameList:
        """Exchanges whose ``<EXCHANGE>_API_KEY`` and ``_API_SECRET`` are set (they win for every api env)."""
        if not self.env_override:
            return []
        return [
            exchange
            for exchange in KNOWN_EXCHANGES
            if env_credentials(SecretEntry(exchange, API_ENVS[0]), self._environ) is not None
        ]

    # --- writing ------------------------------------------------------------------------------------
    def ensure_writable(self, exchange: str) -> None:
        """Raise the backend's read-only error now (before prompting for values that could not be saved)."""
        if not self.backend.writable:
            from mmexec.secrets.env import read_only_error

            raise read_only_error(check_entry(exchange, API_ENVS[0]).exchange)

    def save(self, exchange: str, api_env: str, *, api_key: str, api_secret: str) -> ApiCredentials:
        """Store the credentials in the backend; returns them as stored (masked in every printout)."""
        entry = check_entry(exchange, api_env)
        key = check_value(api_key, "api key")
        secret = check_value(api_secret, "api secret")
        self.backend.save(entry, key, secret)
        return ApiCredentials(
            key, secret, exchange=entry.exchange, api_env=entry.api_env, source=self.location()
        )

    def delete(self, exchange: str, api_env: str) -> bool:
        """Remove the stored credentials; ``False`` when the backend held none."""
        return self.backend.delete(check_entry(exchange, api_env))
