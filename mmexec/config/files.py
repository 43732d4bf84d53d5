"""Finding and parsing the TOML configuration file."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmexec.errors import ConfigError

CONFIG_ENV = "MMEXEC_CONFIG"
DEFAULT_CONFIG_NAME = "mmexec.toml"
# One table per command; `-` in a command name becomes `_`.
KNOWN_TABLES = ("shadow", "bybit_dryrun", "fees", "secrets")


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A parsed configuration file and how it was chosen (``--config``, ``MMEXEC_CONFIG`` or ``./mmexec.toml``)."""

    path: Path
    chosen_by: str
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def table(self, name: str) -> Mapping[str, Any]:
        return self.tables.get(name, {})


def resolve_config_file(
    explicit: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ConfigFile | None:
    """Pick the config file: ``--config`` > ``MMEXEC_CONFIG`` > ``./mmexec.toml`` (if present) > none.

    A path that was given explicitly but does not exist is an error, never silently skipped.
    """
    environ = os.environ if env is None else env
    if explicit is not None and str(explicit) != "":
        return _parse(Path(explicit), "--config")
    from_env = environ.get(CONFIG_ENV)
    if from_env:
        return _parse(Path(from_env), CONFIG_ENV)
    local = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
    if local.is_file():
        return _parse(local, f"./{DEFAULT_CONFIG_NAME}")
    return None


_STDIN_CONFIG: list[bytes] = []  # `--config -`: stdin is read once, however often the file is resolved


def _read_stdin_once() -> bytes:
    if not _STDIN_CONFIG:
        _STDIN_CONFIG.append(sys.stdin.buffer.read())
    return _STDIN_CONFIG[0]


def _parse(path: Path, chosen_by: str) -> ConfigFile:
    where = f"{chosen_by} {path}"
    if str(path) != "-" and not path.exists():
        raise ConfigError(f"config file {str(path)!r} does not exist", source=chosen_by)
    try:
        raw = _read_stdin_once() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", source=where) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("config file is not valid UTF-8", source=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", source=where) from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise ConfigError(f"malformed TOML: {exc}", source=where) from None
    except RecursionError:
        raise ConfigError("malformed TOML: arrays or tables nest too deeply", source=where) from None
    for name, value in data.items():
        if name not in KNOWN_TABLES:
            import difflib

            known = ", ".join(f"[{t}]" for t in KNOWN_TABLES)
            close = difflib.get_close_matches(name, KNOWN_TABLES, n=1, cutoff=0.75)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            raise ConfigError(f"unknown table or key {name!r} (expected one of {known}){hint}", source=where)
        if not isinstance(value, dict):
            raise ConfigError(f"{name!r} must be a table like [{name}]", source=where)
    return ConfigFile(path=path, chosen_by=chosen_by, tables=data)
