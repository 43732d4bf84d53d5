"""The stored credential record shared by the file and aws backends, and the strict JSON reader behind both."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from secrets_support import KEY, SECRET

from mmexec.canonical import dumps
from mmexec.errors import SecretsError
from mmexec.secrets.credentials import SecretEntry
from mmexec.secrets.records import (
    StoredJsonError,
    credential_record,
    credentials_from_record,
    is_credential_record,
    parse_stored_json,
)

ENTRY = SecretEntry("bybit", "dev")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_whatever_mmexec_writes_reads_back_equal(value: object) -> None:
    assert parse_stored_json(dumps(value)) == json.loads(dumps(value))


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_stored_json_error_only(raw: bytes) -> None:
    try:
        parsed = parse_stored_json(raw)
    except StoredJsonError as exc:
        assert exc.reason
    else:
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(parsed))


OUT_OF_RANGE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 4301, str(2**64), str(-(2**63) - 1)]


@given(st.sampled_from(OUT_OF_RANGE), st.integers(0, 3))
def test_non_finite_and_out_of_range_numbers_are_refused_at_any_depth(number: str, depth: int) -> None:
    with pytest.raises(StoredJsonError):
        parse_stored_json("[" * depth + number + "]" * depth)


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@pytest.mark.parametrize("number", [str(2**64 - 1), str(-(2**63)), "0", "-0", "1.5e300", "-5e-324"])
def test_numbers_at_the_edges_of_the_range_are_read_and_can_be_written_back(number: str) -> None:
    value = parse_stored_json(f'{{"n": {number}}}')
    assert parse_stored_json(dumps(value)) == value


def test_a_record_round_trips_to_credentials() -> None:
    record = credential_record(KEY, SECRET)
    assert record == {"api_key": KEY, "api_secret": SECRET}
    assert is_credential_record(record)
    creds = credentials_from_record(record, ENTRY, source="somewhere")
    assert creds is not None
    assert (creds.api_key, creds.reveal_secret(), creds.exchange, creds.api_env, creds.source) == (
        KEY,
        SECRET,
        "bybit",
        "dev",
        "somewhere",
    )


@pytest.mark.parametrize(
    "value",
    [None, [], "text", {"api_key": KEY}, {"api_secret": SECRET}, {"api_key": 1, "api_secret": SECRET}],
)
def test_anything_else_is_not_a_record(value: object) -> None:
    assert not is_credential_record(value)
    assert credentials_from_record(value, ENTRY, source="x") is None


def test_a_record_with_an_unusable_value_is_refused_by_the_credential_checks() -> None:
    with pytest.raises(SecretsError, match="api secret contains whitespace"):
        credentials_from_record(credential_record(KEY, f"{SECRET} x"), ENTRY, source="x")
