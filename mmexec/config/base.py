"""The settings base class: pydantic-settings with flags > env > TOML table > defaults, and value origins."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mmexec.config.files import KNOWN_TABLES, ConfigFile
from mmexec.errors import ConfigError

ENV_PREFIX = "MMEXEC_"
_ACTIVE_FILE: ContextVar[ConfigFile | None] = ContextVar("mmexec_config_file", default=None)


class _TomlTableSource(PydanticBaseSettingsSource):
    """Values of one ``[table]`` of the already-parsed config file."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        config_file = _ACTIVE_FILE.get()
        if config_file is None:
            return {}
        table: str = getattr(self.settings_cls, "table", "")
        return dict(config_file.table(table))


class TableSettings(BaseSettings):
    """One command's settings; subclasses set ``table`` and ``model_config['env_prefix']``."""

    table: ClassVar[str] = ""

    # defer_build: a command builds only the settings model it uses (each schema costs milliseconds).
    model_config = SettingsConfigDict(extra="forbid", case_sensitive=False, validate_default=True, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """TOML ``true``/``false`` where a number or text is expected is an error, never 1 or 0."""
        if isinstance(value, bool) and cls.model_fields[str(info.field_name)].annotation is not bool:
            raise ValueError("expected a number or text, not a boolean")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First source wins: flags (init kwargs) > environment > TOML table > field defaults.
        return (init_settings, env_settings, _TomlTableSource(settings_cls))

    @classmethod
    def env_name(cls, key: str) -> str:
        return f"{cls.model_config.get('env_prefix', '')}{key}".upper()

    @classmethod
    def flag_name(cls, key: str) -> str:
        return "--" + key.replace("_", "-")


S = TypeVar("S", bound=TableSettings)


@dataclass(frozen=True, slots=True)
class Loaded(Generic[S]):
    """Validated settings plus, for every field, where its effective value came from."""

    settings: S
    origins: Mapping[str, str]
    config_file: ConfigFile | None


def _origins(
    cls: type[TableSettings],
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_file: ConfigFile | None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Origin label and raw input value of every field (raw values name bad input in error messages)."""
    table = config_file.table(cls.table) if config_file else {}
    lowered_env = {k.upper(): v for k, v in env.items()}
    origins: dict[str, str] = {}
    raw: dict[str, Any] = {}
    keys = list(cls.model_fields) + [k for k in table if k not in cls.model_fields]
    for key in keys:
        if key in flags:
            origins[key], raw[key] = f"flag {cls.flag_name(key)}", flags[key]
        elif cls.env_name(key) in lowered_env:
            origins[key], raw[key] = f"env {cls.env_name(key)}", lowered_env[cls.env_name(key)]
        elif key in table and config_file is not None:
            origins[key], raw[key] = f"file {config_file.path} [{cls.table}]", table[key]
        else:
            origins[key] = "default"
    return origins, raw


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` of an input value, cut to ``limit`` characters (a 5,000-digit number stays one readable line)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit
        return "<a number too long to print>"
    return text if len(text) <= limit else f"{text[: limit - 12]}...({len(text)} chars)"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for close matches (difflib), or nothing: never a list of unrelated names."""
    close = difflib.get_close_matches(word.lower(), list(choices), n=2, cutoff=0.75)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def unknown_key(cls: type[TableSettings], key: str, origin: str) -> ConfigError:
    return ConfigError(f"unknown key {key!r} in [{cls.table}]{did_you_mean(key, cls.model_fields)}", source=origin)


def _refuse_unknown_env(cls: type[TableSettings], env: Mapping[str, str]) -> None:
    """``MMEXEC_<TABLE>__<KEY>`` with a table or key that does not exist is refused, like in the TOML file."""
    for name in sorted(env):
        table, sep, _ = name.upper().removeprefix(ENV_PREFIX).partition("__")
        if name.upper().startswith(ENV_PREFIX) and sep and table.lower() not in KNOWN_TABLES:
            known = ", ".join(f"[{t}]" for t in KNOWN_TABLES)
            raise ConfigError(f"unknown table {table.lower()!r} (expected one of {known})"
                              f"{did_you_mean(table, KNOWN_TABLES)}", source=f"env {name}")
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    if not prefix:
        return
    for name in sorted(env):
        upper = name.upper()
        if upper.startswith(prefix) and upper[len(prefix):].lower() not in cls.model_fields:
            raise unknown_key(cls, upper[len(prefix):].lower(), f"env {name}")


def _describe(
    exc: ValidationError, origins: Mapping[str, str], raw: Mapping[str, Any], cls: type[TableSettings]
) -> ConfigError:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(p) for p in err.get("loc", ())]
    key = loc[0] if loc else "?"
    origin = origins.get(key, "default")
    if err.get("type") == "extra_forbidden":
        return unknown_key(cls, key, origin)
    message = str(err.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if key in raw and not isinstance(raw[key], (dict, list)):
        return ConfigError(f"invalid {key} {short_repr(raw[key])}: {message}", source=origin)
    detail = ".".join(loc)
    return ConfigError(f"invalid {detail}: {message}", source=origin)


def load_settings(
    cls: type[S],
    flags: Mapping[str, Any] | None = None,
    config_file: ConfigFile | None = None,
    env: Mapping[str, str] | None = None,
) -> Loaded[S]:
    """Build ``cls`` from flags (``None`` values mean "not given"), env, the TOML table and defaults."""
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = os.environ if env is None else env
    _refuse_unknown_env(cls, environ)
    origins, raw = _origins(cls, given, environ, config_file)
    token = _ACTIVE_FILE.set(config_file)
    try:
        settings = cls(**given)
    except ValidationError as exc:
        raise _describe(exc, origins, raw, cls) from None
    finally:
        _ACTIVE_FILE.reset(token)
    return Loaded(settings=settings, origins={k: v for k, v in origins.items() if k in cls.model_fields},
                  config_file=config_file)
