"""The one strict JSON loader (mmexec.json_input): bounded size, depth and numbers; exact; no NaN."""

from __future__ import annotations

import io
import resource
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.errors import ConfigError, InputError
from mmexec.json_input import MAX_DEPTH, JsonInputError, loads_strict, parse_size, read_input


def test_numbers_are_exact() -> None:
    assert loads_strict('{"a": 2186925.49856273171527, "b": 12, "c": -0.0}') == {
        "a": Decimal("2186925.49856273171527"), "b": 12, "c": Decimal("-0.0")}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100_000])
@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"a":', "}")])
def test_deep_nesting_is_an_error_not_a_recursion_error(depth: int, open_: str, close: str) -> None:
    with pytest.raises(JsonInputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        loads_strict(open_ * depth + "1" + close * depth)


def test_allowed_depth_parses_and_the_recursion_limit_is_restored() -> None:
    limit = sys.getrecursionlimit()
    assert loads_strict("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize(
    "number", ["1e999999999", "1e9999999999999999999", "9" * 5000, "-" + "1" * 101, "1e401", "1e-401",
               "0." + "0" * 120 + "1"],
)
def test_huge_numbers_are_refused(number: str) -> None:
    with pytest.raises(JsonInputError) as info:
        loads_strict(f'{{"x": {number}}}')
    assert info.value.verb == "has" and str(info.value).startswith("a number out of range: ")
    assert len(str(info.value)) < 200  # the message never echoes 5,000 digits


@pytest.mark.parametrize("ok", ["1e400", "-1e-400", "0e999999999", "1" * 100])
def test_large_but_bounded_numbers_are_read(ok: str) -> None:
    assert loads_strict(f"[{ok}]") == [Decimal(ok) if "e" in ok else int(ok)]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_numbers_are_refused(constant: str) -> None:
    with pytest.raises(JsonInputError, match=f"not valid JSON: {constant} is not a JSON number"):
        loads_strict(f"[{constant}]")


def test_dev_zero_fails_fast_without_reading_it_all() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError) as info:
        read_input("/dev/zero", what="report", max_bytes=8 << 20, flag="--max-input-size")
    assert str(info.value) == "report file is larger than 8 MiB (raise the cap with --max-input-size) (/dev/zero)"
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 64 * 1024  # bounded chunks: well under 64 MiB more


def test_dash_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"a": 1}')))
    assert read_input("-", what="report", max_bytes=100, flag="--x") == b'{"a": 1}'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 101)))
    with pytest.raises(InputError, match=r"larger than 100 bytes .*\(<stdin>\)$"):
        read_input("-", what="report", max_bytes=100, flag="--x")


def test_exact_size_limit_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"x" * 100)
    assert len(read_input(path, what="report", max_bytes=100, flag="--x")) == 100


@pytest.mark.parametrize(("text", "size"), [("64M", 64 << 20), ("1g", 1 << 30), ("512K", 512 << 10),
                                            ("1000", 1000), ("2MiB", 2 << 20)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text, flag="--max-input-size") == size


@pytest.mark.parametrize("bad", ["", "0", "-1", "1.5M", "M", "1T", "１２"])
def test_parse_size_refuses_nonsense(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"\(flag --max-input-size\)"):
        parse_size(bad, flag="--max-input-size")
