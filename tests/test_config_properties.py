"""Invariant: any value of any run key, from a flag, env or TOML, either loads or is a ConfigError (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.config.base import load_settings
from mmexec.config.files import ConfigFile
from mmexec.config.run import ShadowSettings
from mmexec.errors import ConfigError

KEYS = sorted(ShadowSettings.model_fields)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(["1e309", "1E-999999999", "-0", "0x10", "1_000", " 5 ", "", "=", ",", "BTCUSDT=", "=1"]),
)
TEXT = st.one_of(NUMBERS, st.text(max_size=30))
TOML_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _loads_or_config_error(**kwargs: Any) -> None:
    try:
        load_settings(ShadowSettings, **kwargs)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(KEYS), value=TEXT)
def test_flag_text_loads_or_is_a_config_error(key: str, value: str) -> None:
    _loads_or_config_error(flags={key: [value] if key == "ref_price" else value}, env={})


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(KEYS), value=TEXT)
def test_env_text_loads_or_is_a_config_error(key: str, value: str) -> None:
    _loads_or_config_error(env={ShadowSettings.env_name(key): value})


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(KEYS), value=TOML_VALUES)
def test_toml_value_loads_or_is_a_config_error(key: str, value: Any) -> None:
    config_file = ConfigFile(path=Path("mmexec.toml"), chosen_by="test", tables={"shadow": {key: value}})
    _loads_or_config_error(config_file=config_file, env={})


@settings(max_examples=200, deadline=None)
@given(symbols=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3))
def test_loaded_symbols_are_ascii_upper_alnum(symbols: list[str]) -> None:
    try:
        loaded = load_settings(ShadowSettings, flags={"symbols": ",".join(symbols)}, env={})
    except ConfigError:
        return
    for symbol in loaded.settings.symbols:
        assert symbol.isascii() and symbol.isalnum() and symbol == symbol.upper()
