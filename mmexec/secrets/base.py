"""What every secrets backend provides (memory, env, file, aws)."""

from __future__ import annotations

from typing import Protocol

from mmexec.secrets.credentials import ApiCredentials, SecretEntry


class SecretsBackend(Protocol):
    """A store of credentials keyed by (exchange, api_env). Names arrive validated and normalised."""

    name: str
    writable: bool

    def location(self) -> str:
        """Where the credentials live, for messages: ``file /path``, ``aws secretsmanager us-east-1`` ..."""
        ...

    def load(self, entry: SecretEntry) -> ApiCredentials | None:
        """The stored credentials (with ``source`` set), or ``None`` when there are none."""
        ...

    def save(self, entry: SecretEntry, api_key: str, api_secret: str) -> None:
        """Store (or replace) the credentials of ``entry``; values are already validated."""
        ...

    def entries(self) -> list[SecretEntry]:
        """Every stored (exchange, api_env) that mmexec knows, in any order."""
        ...

    def delete(self, entry: SecretEntry) -> bool:
        """Remove ``entry``; ``False`` when it was not stored."""
        ...
