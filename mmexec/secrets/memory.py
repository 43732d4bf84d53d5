"""The ``memory`` backend: credentials held by one provider object, for tests and embedding."""

from __future__ import annotations

from mmexec.secrets.credentials import ApiCredentials, SecretEntry


class MemoryBackend:
    name = "memory"
    writable = True

    def __init__(self) -> None:
        self._store: dict[SecretEntry, ApiCredentials] = {}

    def location(self) -> str:
        return "memory backend"

    def load(self, entry: SecretEntry) -> ApiCredentials | None:
        return self._store.get(entry)

    def save(self, entry: SecretEntry, api_key: str, api_secret: str) -> None:
        self._store[entry] = ApiCredentials(
            api_key, api_secret, exchange=entry.exchange, api_env=entry.api_env, source="memory backend"
        )

    def entries(self) -> list[SecretEntry]:
        return list(self._store)

    def delete(self, entry: SecretEntry) -> bool:
        return self._store.pop(entry, None) is not None
