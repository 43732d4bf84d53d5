"""ApiCredentials masks itself everywhere; mask_secret follows the README; names are validated."""

from __future__ import annotations

import copy
import logging
import pickle
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.errors import SecretsError
from mmexec.secrets.credentials import (
    API_ENVS,
    KNOWN_EXCHANGES,
    ApiCredentials,
    SecretEntry,
    check_api_env,
    check_exchange,
    check_value,
    env_var_names,
    mask_secret,
)

SECRET = "SKmmexecSecret9921zq"


@pytest.mark.parametrize(
    ("value", "masked"),
    [("test_key", "tes...***"), ("abcd", "abc...***"), ("abc", "***"), ("a", "***"), ("", "***")],
)
def test_mask_secret_follows_the_convention(value: str, masked: str) -> None:
    assert mask_secret(value) == masked


@given(st.text(min_size=4, max_size=200))
def test_mask_keeps_only_the_first_three_characters(value: str) -> None:
    assert mask_secret(value) == value[:3] + "...***"


@given(st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=4, max_size=200))
def test_mask_never_contains_a_key_like_value(value: str) -> None:
    assert value not in mask_secret(value)


@given(st.text(max_size=3))
def test_short_values_mask_completely(value: str) -> None:
    assert mask_secret(value) == "***"


def creds() -> ApiCredentials:
    return ApiCredentials("test_key", SECRET, exchange="bybit", api_env="dev", source="memory backend")


def test_credentials_expose_key_and_masks_but_never_the_secret_in_text() -> None:
    c = creds()
    assert c.api_key == "test_key"
    assert c.masked_api_key == "tes...***"
    assert c.masked_api_secret == "***"
    assert c.reveal_secret() == SECRET
    for text in (
        repr(c),
        str(c),
        f"{c}",
        f"{c!r}",
        "{}".format(c),  # noqa: UP032 -- str.format is a path of its own
        "%s" % c,  # noqa: UP031 -- so is %-formatting (logging uses it)
        format(c, ">200"),
        repr([c]),
        repr({"c": c}),
    ):
        assert SECRET not in text
        assert "test_key" not in text
        assert "tes...***" in text
        assert "api_secret='***'" in text
        assert SECRET[:3] not in text


def test_credentials_in_log_records_stay_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("mmexec.test").info("using %s", creds())
    assert SECRET not in caplog.text
    assert "tes...***" in caplog.text


def test_credentials_are_immutable_and_have_no_instance_dict() -> None:
    c = creds()
    with pytest.raises(AttributeError):
        c.api_key = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del c.api_key
    assert not hasattr(c, "__dict__")


def test_credentials_refuse_pickling_and_copy_to_themselves() -> None:
    c = creds()
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(c)
    assert copy.copy(c) is c
    assert copy.deepcopy(c) is c


def test_credentials_compare_by_value() -> None:
    assert creds() == creds()
    assert creds() != ApiCredentials("test_key", "other_secret", exchange="bybit", api_env="dev")
    assert creds() != "test_key"


@pytest.mark.parametrize(("key", "secret", "what"), [("", SECRET, "api key"), ("k", "  ", "api secret")])
def test_empty_values_are_refused(key: str, secret: str, what: str) -> None:
    with pytest.raises(SecretsError, match=f"{what} is empty"):
        ApiCredentials(key, secret)


def test_values_are_stripped_and_inner_whitespace_refused_without_echo() -> None:
    assert ApiCredentials("  key  ", f"{SECRET}\n").reveal_secret() == SECRET
    with pytest.raises(SecretsError) as err:
        ApiCredentials("key", f"{SECRET} tail")
    assert "whitespace" in str(err.value)
    assert SECRET not in str(err.value)
    with pytest.raises(SecretsError, match="control characters"):
        check_value("a\x00b", "api key")
    with pytest.raises(SecretsError, match="longer than"):
        check_value("x" * 5000, "api secret")
    with pytest.raises(SecretsError, match="must be a string"):
        check_value(None, "api key")


def test_exchange_and_env_are_validated_and_normalised() -> None:
    assert KNOWN_EXCHANGES == ("bybit",)
    assert API_ENVS == ("dev", "shadow", "soak", "prod")
    assert check_exchange(" Bybit ") == "bybit"
    assert check_api_env("PROD") == "prod"
    with pytest.raises(SecretsError, match=r"unknown exchange 'binance' \(expected one of: bybit\)"):
        check_exchange("binance")
    with pytest.raises(SecretsError, match="expected one of: dev, shadow, soak, prod") as err:
        check_api_env("live", source="flag --env")
    assert str(err.value).endswith("(flag --env)")


def test_entries_compare_equal_to_plain_tuples() -> None:
    entry = SecretEntry("bybit", "dev")
    assert entry == ("bybit", "dev")
    assert entry.key == "bybit/dev"


def test_env_var_names_generalise_the_readme_variables() -> None:
    assert env_var_names("bybit") == ("BYBIT_API_KEY", "BYBIT_API_SECRET")
    assert env_var_names("gate-io") == ("GATE_IO_API_KEY", "GATE_IO_API_SECRET")
