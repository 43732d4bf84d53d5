"""The ``file`` backend: one private JSON file, the default store for operators.

- Location: the given path, else ``$MMEXEC_SECRETS_FILE``, else ``$XDG_CONFIG_HOME/mmexec/secrets.json``
  (``~/.config/mmexec/secrets.json`` when ``XDG_CONFIG_HOME`` is unset).
- Missing directories are created with mode 0700; the file is written atomically with mode 0600.
- Saves and deletes read, change and rewrite the file while holding an exclusive ``flock`` on
  ``<file>.lock`` beside it, so two processes saving different entries at once both keep theirs.
- A file that group or others can access, a file owned by someone else, or a directory that group or others
  can write to (or that belongs to someone else -- root included) is refused (a clear error, exit 2) -- before
  any secret is read from it.
- The secrets file and its lock file must be regular files: a symbolic link is refused (saving would replace
  the link and leave the linked copy stale), and so is a FIFO or device (checked with ``lstat`` and opened with
  ``O_NOFOLLOW | O_NONBLOCK``, so nothing blocks and no planted link makes mmexec create a file elsewhere).
- The file is at most 1 MiB of strict JSON (no ``NaN``/``Infinity``, bounded nesting).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mmexec.errors import SecretsError
from mmexec.secrets.credentials import API_ENVS, KNOWN_EXCHANGES, ApiCredentials, SecretEntry
from mmexec.secrets.records import (
    StoredJsonError,
    credential_record,
    credentials_from_record,
    is_credential_record,
    parse_stored_json,
)

FILE_ENV = "MMEXEC_SECRETS_FILE"
FILE_NAME = "secrets.json"
FORMAT = "mmexec-secrets"
VERSION = 1
FILE_MODE = 0o600
DIR_MODE = 0o700
MAX_FILE_BYTES = 1 << 20  # a store holds a few short entries: anything larger is not one
# Never follow a symbolic link, never block on a FIFO, never leak the descriptor into a child.
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


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


def _euid() -> int:
    """The effective uid every owner check compares with (root included: root gets no exemption)."""
    return os.geteuid()


def _kind(st_mode: int) -> str:
    """What a non-regular file is, for messages: ``a directory``, ``a FIFO`` ..."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(st_mode):
            return name
    return "not a regular file"


def _mode(st_mode: int) -> str:
    return f"{stat.S_IMODE(st_mode):04o}"


class FileBackend:
    name = "file"
    writable = True

    def __init__(self, path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_secrets_path(environ)
        if self.path.name in ("", ".", ".."):
            raise SecretsError(
                "the secrets file path names a directory, not a file (e.g. .../secrets.json)",
                source=f"file {self.path}",
            )
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
        if st.st_uid != _euid():
            raise SecretsError(
                f"the secrets directory belongs to uid {st.st_uid}, not to you (uid {_euid()}); "
                "use a directory of your own",
                source=self.location(),
            )
        if st.st_mode & 0o022:
            raise SecretsError(
                f"the secrets directory is writable by group or others (mode {_mode(st.st_mode)}); "
                f"use a private directory or run: chmod go-w {directory}",
                source=self.location(),
            )

    def _check_target(self) -> bool:
        """``True`` when the secrets file exists; refuses (without opening it) anything but a regular file."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise SecretsError(f"cannot inspect the secrets file: {exc.strerror}", source=self.location()) from None
        if stat.S_ISLNK(st.st_mode):
            raise self._symlink_error()
        if not stat.S_ISREG(st.st_mode):
            raise SecretsError(
                f"the secrets file is not a regular file ({_kind(st.st_mode)})", source=self.location()
            )
        return True

    def _symlink_error(self) -> SecretsError:
        try:
            target = f" (to {os.readlink(self.path)})"
        except OSError:
            target = ""
        return SecretsError(
            f"the secrets file is a symbolic link{target}: refused, because saving would replace the link "
            "with a regular file; point --file or MMEXEC_SECRETS_FILE at the real file",
            source=self.location(),
        )

    def _read_document(self) -> dict[str, Any]:
        """The parsed file (an empty store when it does not exist), after the permission checks."""
        self._check_directory(must_exist=False)
        if not self._check_target():
            return {"format": FORMAT, "version": VERSION, "entries": {}}
        try:
            fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
        except FileNotFoundError:
            return {"format": FORMAT, "version": VERSION, "entries": {}}
        except PermissionError:
            raise SecretsError("cannot read the secrets file: permission denied", source=self.location()) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # replaced by a symbolic link since the check
                raise self._symlink_error() from None
            raise SecretsError(f"cannot open the secrets file: {exc.strerror}", source=self.location()) from None
        try:
            self._check_file(os.fstat(fd))  # the opened file itself: no check-then-open race
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SecretsError(
                "the secrets file is larger than 1 MiB: not an mmexec secrets file", source=self.location()
            )
        return self._parse(raw)

    def _check_file(self, st: os.stat_result) -> None:
        """Refuse anything but a regular file that only its owner -- the current user -- can access."""
        if not stat.S_ISREG(st.st_mode):
            raise SecretsError(
                f"the secrets file is not a regular file ({_kind(st.st_mode)})", source=self.location()
            )
        if st.st_mode & 0o077:
            raise SecretsError(
                f"refusing to read the secrets file: group or others can access it (mode {_mode(st.st_mode)}); "
                f"run: chmod 600 {self.path}",
                source=self.location(),
            )
        if st.st_uid != _euid():
            raise SecretsError(
                f"refusing to read the secrets file: it belongs to uid {st.st_uid}, not to you",
                source=self.location(),
            )

    def _parse(self, raw: bytes) -> dict[str, Any]:
        # Messages describe the structure only: the file's text may hold secrets.
        try:
            doc = parse_stored_json(raw)
        except StoredJsonError as exc:
            raise SecretsError(f"the secrets file {exc.reason}", source=self.location()) from None
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
            if not is_credential_record(value):
                raise SecretsError(
                    f"entry {name[:40]!r} of the secrets file needs api_key and api_secret strings",
                    source=self.location(),
                )
        return doc

    def load(self, entry: SecretEntry) -> ApiCredentials | None:
        value = self._read_document()["entries"].get(entry.key)
        return credentials_from_record(value, entry, source=f"{self.location()} [{entry.key}]")

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
        self._check_target()  # before the lock file exists: a refused path leaves nothing behind
        where = f"lock file {self.lock_path}"
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, FILE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SecretsError(
                    "the lock file is a symbolic link: refused (remove it; mmexec creates its own)", source=where
                ) from None
            raise SecretsError(f"cannot open the lock file: {exc.strerror}", source=where) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SecretsError(
                    f"the lock file is not a regular file ({_kind(st.st_mode)}; remove it, mmexec creates its own)",
                    source=where,
                )
            if st.st_uid != _euid():
                raise SecretsError(f"the lock file belongs to uid {st.st_uid}, not to you", source=where)
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
            doc["entries"][entry.key] = credential_record(api_key, api_secret)
            self._write_document(doc)

    def delete(self, entry: SecretEntry) -> bool:
        self._check_directory(must_exist=False)
        if not self._check_target():
            return False  # nothing to delete: don't create directories or a lock file for it
        with self._locked():
            doc = self._read_document()
            if doc["entries"].pop(entry.key, None) is None:
                return False
            self._write_document(doc)
            return True
