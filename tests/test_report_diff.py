"""The report diff library: loading, path syntax, ignore patterns, semantics, tolerances, invariants."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.canonical import dumps
from mmexec.errors import ConfigError, InputError
from mmexec.reporting.diff import (
    Difference,
    DiffKind,
    IgnorePatterns,
    diff_reports,
    ensure_differences_writable,
    ensure_writable,
    format_path,
    load_report,
    parse_pattern,
    tolerance,
)

D = Decimal


def paths(differences: list[Difference]) -> list[str]:
    return [d.path for d in differences]


# ------------------------------------------------------------------------------------------ load_report


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_load_parses_numbers_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '{"a": 0.1, "b": 7500.0, "c": 123456789012345678901234567890, "d": 1e-7}')
    doc = load_report(path)
    assert doc == {"a": D("0.1"), "b": D("7500.0"), "c": 123456789012345678901234567890, "d": D("1e-7")}
    assert type(doc["a"]) is Decimal and type(doc["c"]) is int


def test_load_accepts_a_utf8_bom_and_unicode(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", "\ufeff" + '{"café": "☕"}')
    assert load_report(path) == {"café": "☕"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": 1', "report is not valid JSON: Expecting ',' delimiter at line 1 column 8"),
        (b"", "report is not valid JSON: Expecting value at line 1 column 1"),
        (b'{"a": NaN}', "report is not valid JSON: NaN is not a JSON number"),
        (b'{"a": -Infinity}', "report is not valid JSON: -Infinity is not a JSON number"),
        (b'{"a": "\xff"}', "report is not valid UTF-8 (byte 7)"),
        (b"[1, 2]", "report must be a JSON object at the top level, not an array"),
        (b'"text"', "report must be a JSON object at the top level, not a string"),
        (b"null", "report must be a JSON object at the top level, not null"),
        (b"1.5", "report must be a JSON object at the top level, not a number"),
        (b"[" * 100_000 + b"]" * 100_000, "report is nested more than 128 levels deep"),
    ],
)
def test_load_rejects_bad_content_naming_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(InputError) as info:
        load_report(path)
    assert info.value.message == message
    assert info.value.source == str(path)
    assert str(path) in str(info.value)


def test_load_rejects_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"report file does not exist \(.*nope\.json\)"):
        load_report(tmp_path / "nope.json")
    with pytest.raises(InputError, match="report path is a directory"):
        load_report(tmp_path)


@pytest.mark.parametrize(
    ("value", "problem", "where"),
    [
        ({"x": ["ok", "\ud800"]}, "a string that is not valid Unicode", "s.x[1]"),
        ({"x": float("nan")}, "a number out of range", "s.x"),
        ({"x": {"\udcff": 1}}, "an object key that is not valid Unicode", "s.x"),
    ],
)
def test_ensure_writable_names_file_and_path(value: Any, problem: str, where: str) -> None:
    with pytest.raises(InputError) as info:
        ensure_writable(value, "r.json", ("s",))
    assert str(info.value) == f"report has {problem} at {where} (r.json)"


def test_ensure_writable_accepts_what_canonical_json_writes() -> None:
    ensure_writable({"a": [1, D("0.15"), -(2**63), 2**64, D("1e400"), "☕", None, True, {"é": 1.5}]}, "r.json")


def test_ensure_differences_writable_names_the_side() -> None:
    diffs = diff_reports({"a": 1, "k": "x"}, {"a": 1, "k": "\ud800"})
    with pytest.raises(InputError, match=r"at k \(b\.json\)"):
        ensure_differences_writable(diffs, "a.json", "b.json")
    diffs = diff_reports({"\ud800": 1}, {})
    with pytest.raises(InputError, match=r"key that is not valid Unicode at the top level \(a\.json\)"):
        ensure_differences_writable(diffs, "a.json", "b.json")


# ------------------------------------------------------------------------------------ paths & patterns


@pytest.mark.parametrize(
    ("segments", "text"),
    [
        (("positions", "by_symbol", "BTCUSDT"), "positions.by_symbol.BTCUSDT"),
        (("orders", "items", 3, "price"), "orders.items[3].price"),
        (("positions", "by_symbol", "BTC.USDT"), 'positions.by_symbol["BTC.USDT"]'),
        (("fees", "café"), 'fees["café"]'),
        (("x", "3"), "x.3"),
        (("x", 3), "x[3]"),
        (("x", ""), 'x[""]'),
        (("x", 'q"uo\\te'), r'x["q\"uo\\te"]'),
        (("x", "*"), 'x["*"]'),
        (("a b", "new\nline"), '["a b"]["new\\nline"]'),
        ((0, "k"), "[0].k"),
        (("bybit-dryrun", "max_inv"), "bybit-dryrun.max_inv"),
    ],
)
def test_format_path_and_parse_back(segments: tuple[Any, ...], text: str) -> None:
    assert format_path(segments) == text
    assert parse_pattern(text) == segments


@pytest.mark.parametrize(
    "pattern",
    ["", ".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a[1.5]", "a[true]", "a[ 1]", "a[1]b", "a*", "b.*x", 'a["x"'],
)
def test_bad_patterns_are_config_errors_naming_the_source(pattern: str) -> None:
    with pytest.raises(ConfigError) as info:
        IgnorePatterns([pattern], source="flag --ignore")
    assert info.value.source == "flag --ignore"
    assert repr(pattern) in info.value.message


def test_patterns_accept_bare_unicode_keys() -> None:
    assert parse_pattern("fees.café.x") == ("fees", "café", "x")


keys = st.text(min_size=0, max_size=6)
segment_lists = st.lists(st.one_of(keys, st.integers(min_value=0, max_value=10**6)), min_size=1, max_size=5)


@given(segment_lists)
def test_every_path_parses_back_to_its_segments(segments: list[Any]) -> None:
    assert parse_pattern(format_path(segments)) == tuple(segments)


# ------------------------------------------------------------------------------------------- semantics

SEED = {
    "execution": {"iterations": 50, "symbols": ["BTCUSDT", "ETHUSDT"]},
    "orders": {"placed": 42, "filled": 28, "rejected": 2, "canceled": 5, "risk_blocks": 7},
    "positions": {
        "by_symbol": {"BTCUSDT": D("0.15"), "ETHUSDT": D("1.2")},
        "net_pos_usd": {"BTCUSDT": D("7500.0"), "ETHUSDT": D("3600.0")},
        "total_notional_usd": D("11100.0"),
    },
    "risk": {"frozen": True, "freeze_events": 1, "last_freeze_reason": "Edge below threshold"},
    "runtime": {"utc": "2025-01-01T00:00:00Z"},
}


def changed(**edits: Any) -> dict[str, Any]:
    """A deep copy of SEED with dotted-path edits (a value of REMOVE deletes the key)."""
    doc = copy.deepcopy(SEED)
    for dotted, value in edits.items():
        *parents, last = dotted.split("__")
        node = doc
        for key in parents:
            node = node[key]
        if value is REMOVE:
            del node[last]
        else:
            node[last] = value
    return doc


REMOVE = object()


def test_identical_reports_have_no_differences() -> None:
    assert diff_reports(SEED, copy.deepcopy(SEED)) == []


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, D("1.0"), True),
        (D("7500"), D("7500.000"), True),
        (0, D("-0.0"), True),
        (1, 1.0, True),
        (D("0.1"), 0.1, True),  # a float compares as the decimal it was written as
        (True, 1, False),
        (False, 0, False),
        (1, "1", False),
        (None, 0, False),
        (None, "", False),
        ([], {}, False),
        (D("0.1"), D("0.10000000000000001"), False),  # exact, not through doubles
        (10**30, 10**30 + 1, False),
        ("é", "e\u0301", False),  # no Unicode normalisation: bytes that differ are different
    ],
)
def test_value_semantics(a: Any, b: Any, equal: bool) -> None:
    assert (diff_reports({"v": a}, {"v": b}) == []) is equal
    assert (diff_reports({"v": b}, {"v": a}) == []) is equal


def test_numeric_change_reports_absolute_and_relative_change() -> None:
    (d,) = diff_reports(SEED, changed(positions__total_notional_usd=D("11655.0")))
    assert d == Difference(
        path="positions.total_notional_usd",
        kind=DiffKind.CHANGED,
        a=D("11100.0"),
        b=D("11655.0"),
        abs_change=D("555.0"),
        rel_change=D("0.05"),
        segments=("positions", "total_notional_usd"),
    )


def test_integer_change_stays_integer_and_rel_change_is_none_from_zero() -> None:
    (d,) = diff_reports({"n": 28}, {"n": 30})
    assert (d.abs_change, d.rel_change) == (2, D(2) / D(28))
    assert type(d.abs_change) is int
    (d,) = diff_reports({"n": 0}, {"n": D("-2.5")})
    assert (d.abs_change, d.rel_change) == (D("-2.5"), None)
    (d,) = diff_reports({"n": D("-4")}, {"n": 2})
    assert d.rel_change == D("1.5")  # (b - a) / |a|


def test_type_change_is_one_changed_difference_at_that_path() -> None:
    (d,) = diff_reports(SEED, changed(positions__by_symbol=D("1.35")))
    assert (d.path, d.kind, d.a, d.b) == (
        "positions.by_symbol",
        DiffKind.CHANGED,
        SEED["positions"]["by_symbol"],
        D("1.35"),
    )
    assert (d.abs_change, d.rel_change) == (None, None)
    (d,) = diff_reports({"x": [1]}, {"x": {"0": 1}})
    assert (d.path, d.kind) == ("x", DiffKind.CHANGED)


def test_added_and_removed_keys_and_list_items() -> None:
    b = changed(
        execution__symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"],
        orders__risk_blocks=REMOVE,
        fees={"maker_bps": D("-1"), "tiers": [1, 2]},
        risk__last_freeze_symbol=None,
    )
    diffs = diff_reports(SEED, b)
    assert [(d.path, d.kind, d.a, d.b) for d in diffs] == [
        ("execution.symbols[2]", DiffKind.ADDED, None, "SOLUSDT"),
        ("fees", DiffKind.ADDED, None, {"maker_bps": D("-1"), "tiers": [1, 2]}),
        ("orders.risk_blocks", DiffKind.REMOVED, 7, None),
        ("risk.last_freeze_symbol", DiffKind.ADDED, None, None),
    ]
    back = diff_reports(b, SEED)
    assert [(d.path, d.kind) for d in back] == [
        ("execution.symbols[2]", DiffKind.REMOVED),
        ("fees", DiffKind.REMOVED),
        ("orders.risk_blocks", DiffKind.ADDED),
        ("risk.last_freeze_symbol", DiffKind.REMOVED),
    ]


def test_list_items_compare_by_index() -> None:
    diffs = diff_reports({"s": ["A", "B", "C"]}, {"s": ["B", "C"]})
    assert [(d.path, d.kind) for d in diffs] == [
        ("s[0]", DiffKind.CHANGED),
        ("s[1]", DiffKind.CHANGED),
        ("s[2]", DiffKind.REMOVED),
    ]


def test_order_is_by_path_whatever_the_key_order_of_the_inputs() -> None:
    a = {"z": 1, "a": {"y": 1, "b": 1}, "m": [1] * 12}
    b = {"m": [2] * 12, "a": {"b": 2, "y": 2}, "z": 2}
    expected = ["a.b", "a.y", *(f"m[{i}]" for i in range(12)), "z"]
    assert paths(diff_reports(a, b)) == expected
    assert paths(diff_reports(dict(reversed(a.items())), b)) == expected


def test_unicode_and_dotted_keys_are_unambiguous() -> None:
    a = {"a": {"b": 1}, "a.b": 1, "café": {"☕": "x"}}
    b = {"a": {"b": 2}, "a.b": 2, "café": {"☕": "y"}}
    assert paths(diff_reports(a, b)) == ["a.b", '["a.b"]', '["café"]["☕"]']
    assert paths(diff_reports(a, b, ignore=['["a.b"]'])) == ["a.b", '["café"]["☕"]']
    assert paths(diff_reports(a, b, ignore=["a.b", "café.*"])) == ['["a.b"]']


# -------------------------------------------------------------------------------------------- ignore

DIFFERENT = {
    "runtime": {"utc": "2025-01-02T00:00:00Z", "host": "b"},
    "orders": {"items": [{"id": 1, "ts": 5}, {"id": 2, "ts": 6}], "placed": 3},
    "positions": {"by_symbol": {"BTCUSDT": 1, "ETHUSDT": 2}},
}
BASE = {
    "runtime": {"utc": "2025-01-01T00:00:00Z", "host": "a"},
    "orders": {"items": [{"id": 1, "ts": 1}, {"id": 2, "ts": 2}], "placed": 2},
    "positions": {"by_symbol": {"BTCUSDT": 0, "ETHUSDT": 0}},
}
ALL = [
    "orders.items[0].ts",
    "orders.items[1].ts",
    "orders.placed",
    "positions.by_symbol.BTCUSDT",
    "positions.by_symbol.ETHUSDT",
    "runtime.host",
    "runtime.utc",
]


@pytest.mark.parametrize(
    ("patterns", "left"),
    [
        ([], ALL),
        (["runtime"], ALL[:5]),
        (["runtime.*"], ALL[:5]),
        (["runtime.utc"], ALL[:6]),
        (["*.utc"], ALL[:6]),
        (["**.utc"], ALL[:6]),
        (["orders.items[*].ts"], ALL[2:]),
        (["orders.items.*.ts"], ALL[2:]),  # `*` matches an index too
        (["orders.items[1]"], [ALL[0], *ALL[2:]]),
        (["orders.items.1"], ALL),  # `.1` is the key "1", not an index
        (["**.ts", "runtime.**"], ALL[2:5]),
        (["positions.*.*"], [*ALL[:3], *ALL[5:]]),
        (["*"], []),
        (["**"], []),
        (["nothing.here", "orders.placed.deeper"], ALL),
        (["orders.*.ts"], ALL),  # `*` is exactly one segment
    ],
)
def test_ignore_patterns(patterns: list[str], left: list[str]) -> None:
    assert paths(diff_reports(BASE, DIFFERENT, ignore=patterns)) == left


def test_ignore_applies_to_added_and_removed_paths() -> None:
    a = {"runtime": {"utc": "x"}, "keep": 1}
    b = {"keep": 1, "extra": {"n": 1}}
    assert paths(diff_reports(a, b)) == ["extra", "runtime"]
    assert paths(diff_reports(a, b, ignore=["runtime.*"])) == ["extra", "runtime"]  # the section itself
    assert paths(diff_reports(a, b, ignore=["runtime.**", "extra"])) == []  # `**` matches zero segments


def test_literal_star_key_is_quoted() -> None:
    a, b = {"*": 1, "x": 1}, {"*": 2, "x": 2}
    assert paths(diff_reports(a, b, ignore=['["*"]'])) == ["x"]
    assert paths(diff_reports(a, b, ignore=["*"])) == []


# ---------------------------------------------------------------------------------------- tolerances


@pytest.mark.parametrize(
    ("a", "b", "abs_tol", "rel_tol", "equal"),
    [
        (D("100"), D("100.5"), D("0.5"), None, True),  # |b - a| <= abs_tol: the boundary is equal
        (D("100"), D("100.51"), D("0.5"), None, False),
        (D("100"), D("101"), None, D("0.01"), True),  # 1 <= 0.01 * max(100, 101)
        (D("100"), D("101"), None, D("0.0099"), False),
        (D("100"), D("101.01"), None, D("0.01"), True),  # uses max(|a|, |b|)
        (D("100"), D("102"), D("1"), D("0.01"), False),
        (D("100"), D("102"), D("2"), D("0.001"), True),  # either tolerance suffices
        (D("100"), D("102"), D("0.001"), D("0.02"), True),
        (D("-5"), D("5"), None, D("1"), False),  # 10 > 1 * 5
        (D("-5"), D("5"), None, D("2"), True),
        (0, D("1e-12"), D("1e-9"), None, True),
        (1, 2, D("0"), D("0"), False),
    ],
)
def test_tolerances(a: Any, b: Any, abs_tol: Decimal | None, rel_tol: Decimal | None, equal: bool) -> None:
    diffs = diff_reports({"x": a}, {"x": b}, abs_tol=abs_tol, rel_tol=rel_tol)
    assert (diffs == []) is equal


def test_tolerances_apply_to_numbers_only() -> None:
    assert paths(diff_reports({"x": "1", "y": True}, {"x": "2", "y": False}, abs_tol=D("10"))) == ["x", "y"]


@pytest.mark.parametrize("text", ["-1", "-0.001", "nan", "NaN", "inf", "-Infinity", "abc", "", "1,5", "sNaN"])
def test_tolerance_must_be_a_non_negative_finite_number(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        tolerance(text, "abs_tol", "flag --abs-tol")
    assert info.value.source == "flag --abs-tol"
    assert info.value.message == f"invalid abs_tol {text!r}: must be a non-negative finite number"


def test_tolerance_parses_exactly() -> None:
    assert tolerance(" 0.015 ", "rel_tol", "flag") == D("0.015")
    assert tolerance("0", "rel_tol", "flag") == 0
    assert tolerance(None, "rel_tol", "flag") is None
    with pytest.raises(ConfigError, match="argument rel_tol"):
        diff_reports({}, {}, rel_tol=D("-1"))


# ----------------------------------------------------------------------------------------- the record


def test_difference_is_frozen_and_serialises_every_field() -> None:
    (d,) = diff_reports({"p": {"x.y": D("2")}}, {"p": {"x.y": D("3")}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.path = "other"  # type: ignore[misc]
    assert d.to_json() == {
        "path": 'p["x.y"]',
        "segments": ["p", "x.y"],
        "kind": "changed",
        "a": D("2"),
        "b": D("3"),
        "abs_change": D("1"),
        "rel_change": D("0.5"),
    }


def test_changes_beyond_a_double_serialise_exactly() -> None:
    (d,) = diff_reports({"x": D("-1.7e308")}, {"x": D("1.7e308")})
    assert d.abs_change == D("3.4e308")
    assert dumps(d.to_json()).count(b"3.4e+308") == 1
    assert d.to_json()["rel_change"] == D("2")


# ------------------------------------------------------------------------------------------ invariants

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000),
    st.text(max_size=4),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=20,
)
reports = st.dictionaries(st.sampled_from(["execution", "orders", "positions", "risk", "x.y", "é"]), json_values)


def strict_equal(x: Any, y: Any) -> bool:
    """Equality with JSON's types: numbers by value, but booleans are not numbers."""
    numbers = (int, Decimal)
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, numbers) and isinstance(y, numbers):
        return Decimal(x) == Decimal(y)
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(strict_equal(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(strict_equal(i, j) for i, j in zip(x, y, strict=True))
    return type(x) is type(y) and x == y


def apply(doc: dict[str, Any], differences: list[Difference]) -> dict[str, Any]:
    """Turn A into B with the differences (removed list items from the highest index down)."""
    out = copy.deepcopy(doc)
    others = [d for d in differences if d.kind is not DiffKind.REMOVED]
    removals = sorted((d for d in differences if d.kind is DiffKind.REMOVED), key=lambda d: d.segments)
    for d in [*others, *reversed(removals)]:
        *parents, last = d.segments
        node: Any = out
        for seg in parents:
            node = node[seg]
        if d.kind is DiffKind.REMOVED:
            del node[last]
        elif isinstance(node, list) and last == len(node):
            node.append(d.b)
        else:
            node[last] = d.b
    return out


@settings(max_examples=300, deadline=None)
@given(reports, reports)
def test_differences_turn_a_into_b(a: dict[str, Any], b: dict[str, Any]) -> None:
    diffs = diff_reports(a, b)
    assert strict_equal(apply(a, diffs), b)
    assert (diffs == []) is strict_equal(a, b)


@settings(max_examples=200, deadline=None)
@given(reports, reports)
def test_diff_is_antisymmetric(a: dict[str, Any], b: dict[str, Any]) -> None:
    swap = {DiffKind.ADDED: DiffKind.REMOVED, DiffKind.REMOVED: DiffKind.ADDED, DiffKind.CHANGED: DiffKind.CHANGED}
    forward = [(d.path, swap[d.kind], d.b, d.a) for d in diff_reports(a, b)]
    backward = [(d.path, d.kind, d.a, d.b) for d in diff_reports(b, a)]
    assert forward == backward


@settings(max_examples=200, deadline=None)
@given(reports)
def test_a_report_equals_itself_and_its_json_round_trip(a: dict[str, Any]) -> None:
    from mmexec.canonical import dumps

    assert diff_reports(a, a) == []
    again = json.loads(dumps(a), parse_float=Decimal)
    assert diff_reports(a, again) == []


@settings(max_examples=100, deadline=None)
@given(reports, reports, st.lists(st.sampled_from(["*", "**", "execution", "orders.*", "*.x", "**[0]"]), max_size=3))
def test_ignored_differences_are_a_subset(a: dict[str, Any], b: dict[str, Any], patterns: list[str]) -> None:
    every = paths(diff_reports(a, b))
    kept = paths(diff_reports(a, b, ignore=patterns))
    assert set(kept) <= set(every)
    assert kept == [p for p in every if p in set(kept)]  # same order
