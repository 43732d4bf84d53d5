"""The ``file`` backend: one private JSON file, the default store for operators.

- Location: the given path, else ``$MMEXEC_SECRETS_FILE``, else ``$XDG_CONFIG_HOME/mmexec/secrets.json``
  (``~/.config/mmexec/secrets.json`` when ``XDG_CONFIG_HOME`` is unset).
- Missing directories are created with mode 0700; the file is written atomically with mode 0600.
- Saves and deletes read, change and rewrite the file while holding an exclusive ``flock`` on
  ``<file>.lock`` beside it, so two processes saving different entries at once both keep theirs.
- A file that group or others can access, a file owned by someone else, or a directory that group or others
  can write to is refused (a clear error, exit 2) -- before any secret is read from it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mmexec.errors import SecretsError
from mmexec.secrets.credentials import (
    API_ENVS,
    KNOWN_EXCHANGES,
    ApiCredentials,
    SecretEntry,
)

FILE_ENV = "MMEXEC_SECRETS_FILE"
FILE_NAME = "secrets.json"
FORMAT = "mmexec-secrets"
VERSION = 1
FILE_MODE = 0o600
DIR_MODE = 0o700


def default_secrets_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$MMEXEC_SECRETS_FILE``, else ``$XDG_CONFIG_HOME/mmexec/secrets.json`` (``~/.config`` by default)."""
    env = os.environ if environ is None else environ
    explicit = env.get(FILE_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_CONFIG_HOME", "").strip()
    # The XDG spec says relative values are invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "mmexec" / FILE_NAME


def _mode(st_mode: int) -> str:
    return f"{stat.S_IMODE(st_mode):04o}"


class FileBackend:
    name = "file"
    writable = True

    def __init__(self, path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_secrets_path(environ)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def location(self) -> str:
        return f"file {self.path}"

    # --- reading --------------------------------------------------------------------------------
    def _check_directory(self, *, must_exist: bool) -> None:
        directory = self.path.parent
        try:
            st = directory.stat()
        except FileNotFoundError:
            if must_exist:
                raise SecretsError("secrets directory does not exist", source=f"directory {directory}") from None
            return
        if not stat.S_ISDIR(st.st_mode):
            raise SecretsError("the secrets file's parent is not a directory", source=f"path {directory}")
        if st.st_mode & 0o022:
            raise SecretsError(
                f"the secrets directory is writable by group or others (mode {_mode(st.st_mode)}); "
                f"use a private directory or run: chmod go-w {directory}",
                source=self.location(),
            )

    def _read_document(self) -> dict[str, Any]:
        """The parsed file (an empty store when it does not exist), after the permission checks."""
        self._check_directory(must_exist=False)
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return {"format": FORMAT, "version": VERSION, "entries": {}}
        except PermissionError:
            raise SecretsError("cannot read the secrets file: permission denied", source=self.location()) from None
        except OSError as exc:
            raise SecretsError(f"cannot open the secrets file: {exc.strerror}", source=self.location()) from None
        try:
            self._check_file(os.fstat(fd))  # the opened file itself: no check-then-open race
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read()
        return self._parse(raw)

    def _check_file(self, st: os.stat_result) -> None:
        """Refuse anything but a regular file that only its owner -- the current user -- can access."""
        if not stat.S_ISREG(st.st_mode):
            raise SecretsError("the secrets file is not a regular file", source=self.location())
        if st.st_mode & 0o077:
            raise SecretsError(
                f"refusing to read the secrets file: group or others can access it (mode {_mode(st.st_mode)}); "
                f"run: chmod 600 {self.path}",
                source=self.location(),
            )
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            raise SecretsError(
                f"refusing to read the secrets file: it belongs to uid {st.st_uid}, not to you",
                source=self.location(),
            )

    def _parse(self, raw: bytes) -> dict[str, Any]:
        # Messages describe the structure only: the file's text may hold secrets.
        import json

        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SecretsError("the secrets file is not valid JSON", source=self.location()) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise SecretsError(
                f'the secrets file is not an mmexec secrets file (no "format": "{FORMAT}")',
                source=self.location(),
            )
        if doc.get("version") != VERSION:
            raise SecretsError(
                f"unsupported secrets file version (this mmexec reads version {VERSION})",
                source=self.location(),
            )
        entries = doc.get("entries")
        if not isinstance(entries, dict):
            raise SecretsError('the secrets file has no "entries" object', source=self.location())
        for name, value in entries.items():
            if not (
                isinstance(value, dict)
                and isinstance(value.get("api_key"), str)
                and isinstance(value.get("api_secret"), str)
            ):
                raise SecretsError(
                    f"entry {name[:40]!r} of the secrets file needs api_key and api_secret strings",
                    source=self.location(),
                )
        return doc

    def load(self, entry: SecretEntry) -> ApiCredentials | None:
        value = self._read_document()["entries"].get(entry.key)
        if value is None:
            return None
        source = f"{self.location()} [{entry.key}]"
        return ApiCredentials(
            value["api_key"],
            value["api_secret"],
            exchange=entry.exchange,
            api_env=entry.api_env,
            source=source,
        )

    def entries(self) -> list[SecretEntry]:
        found = []
        for name in self._read_document()["entries"]:
            exchange, _, api_env = name.partition("/")
            # Entries of exchanges this version does not know are kept in the file but not listed.
            if exchange in KNOWN_EXCHANGES and api_env in API_ENVS:
                found.append(SecretEntry(exchange, api_env))
        return found

    # --- writing --------------------------------------------------------------------------------
    def _make_directory(self) -> None:
        """Create the missing directories of the path with mode 0700 (regardless of the umask)."""
        missing: list[Path] = []
        directory = self.path.parent
        while not directory.exists():
            missing.append(directory)
            if directory.parent == directory:
                break
            directory = directory.parent
        for new in reversed(missing):
            try:
                new.mkdir(mode=DIR_MODE)
            except FileExistsError:
                pass  # created by a concurrent save
            except OSError as exc:
                raise SecretsError(f"cannot create directory {new}: {exc.strerror}", source=self.location()) from None
            os.chmod(new, DIR_MODE)
        self._check_directory(must_exist=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock on ``<file>.lock`` (blocks while another process holds it)."""
        import fcntl

        self._make_directory()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
        except OSError as exc:
            raise SecretsError(f"cannot open the lock file: {exc.strerror}", source=f"file {self.lock_path}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write_document(self, doc: dict[str, Any]) -> None:
        from mmexec.artifacts import write_atomic
        from mmexec.canonical import dumps

        try:
            write_atomic(self.path, dumps(doc), mode=FILE_MODE)
        except OSError as exc:
            raise SecretsError(f"cannot write the secrets file: {exc.strerror}", source=self.location()) from None

    def save(self, entry: SecretEntry, api_key: str, api_secret: str) -> None:
        with self._locked():
            doc = self._read_document()
            doc["entries"][entry.key] = {"api_key": api_key, "api_secret": api_secret}
            self._write_document(doc)

    def delete(self, entry: SecretEntry) -> bool:
        if not self.path.exists():
            return False  # nothing to delete: don't create directories or a lock file for it
        with self._locked():
            doc = self._read_document()
            if doc["entries"].pop(entry.key, None) is None:
                return False
            self._write_document(doc)
            return True
