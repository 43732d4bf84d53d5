"""Every bad run value is exit 2 with one line naming the value and its source, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

FAST = ("--iterations", "3")


def assert_one_line_error(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--max-inv", "1e309"),
        ("--max-total", "1e309"),
        ("--edge-threshold", "1e309"),
        ("--edge-threshold", "-1e309"),
        ("--order-notional", "1e309"),
        ("--requote-bps", "1e309"),
        ("--rate-limit-refill", "1e309"),
        ("--order-notional", "1E-999999999"),
        ("--max-inv", "1E+999999999"),
        ("--unfreeze-after-ms", "99999999999999999999999"),
        ("--unfreeze-after-ms", str(2**64)),
        ("--rate-limit-capacity", "99999999999999999999999"),
        ("--seed", str(2**64)),
        ("--iterations", "9" * 5000),
        ("--ref-price", "BTCUSDT=1e309"),
        ("--ref-price", "BTCUSDT=1E-999999999"),
        ("--fee-maker-bps", "1e309"),
    ],
)
def test_numbers_out_of_range(cli, flag: str, value: str) -> None:
    args = ("--exchange", "bybit") if flag.startswith("--rate-limit") else ()
    key = flag[2:].replace("-", "_")
    result = cli("shadow", *FAST, *args, flag, value)
    assert_one_line_error(result, f"invalid {key}", f"(flag {flag})")
    assert len(result.stderr) < 400  # a 5,000-digit value is not echoed in full


def test_bounds_accept_generous_real_values(cli) -> None:
    result = cli("shadow", *FAST, "--max-inv", "900000000000", "--max-total", "1000000000000",
                 "--order-notional", "0.00000001", "--edge-threshold", "-9999.5", "--unfreeze-after-ms",
                 str(2**53 - 1), "--ref-price", "BTCUSDT=0.000000000001")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("BTCUSDT=abc", "reference price of BTCUSDT must be a number, got 'abc'"),
        ("BTCUSDT=", "reference price of BTCUSDT must be a number"),
        ("=100", "bad symbol ''"),
        ("btc usdt=5", "bad symbol 'btc usdt'"),
        ("BTCUSDT=1,BTCUSDT=2", "reference price of BTCUSDT given twice"),
        ("BTCUSDT", "expected SYMBOL=PRICE"),
        ("BTCUSDT=-1", "greater than 0"),
        ("BTCUSDT=nan", "ref_price"),
        ("bıtusdt=5", "bad symbol"),
    ],
)
def test_ref_price_forms(cli, value: str, needle: str) -> None:
    assert_one_line_error(cli("shadow", *FAST, "--ref-price", value), needle, "(flag --ref-price)")
    env = {"MMEXEC_SHADOW__REF_PRICE": value}
    assert_one_line_error(cli("shadow", *FAST, env=env), needle, "(env MMEXEC_SHADOW__REF_PRICE)")


def test_ref_price_repeated_flag_is_refused(cli) -> None:
    result = cli("shadow", *FAST, "--ref-price", "SOLUSDT=1", "--ref-price", "solusdt=2")
    assert_one_line_error(result, "reference price of SOLUSDT given twice")


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('ref_price = "BTCUSDT=abc"', "must be a number"),
        ("ref_price = true", "ref_price"),
        ("ref_price = { BTCUSDT = true }", "must be a number, got True"),
        ("ref_price = { BTCUSDT = { deep = 1 } }", "must be a number"),
        ("ref_price = { BTCUSDT = [1] }", "must be a number"),
        ('ref_price = { "btc usdt" = 5 }', "bad symbol"),
        ("ref_price = [1, 2]", "expected SYMBOL=PRICE"),
        ("ref_price = 5", "expected SYMBOL=PRICE pairs"),
        ("fill_rate = true", "fill_rate True: expected a number or text, not a boolean"),
        ("iterations = true", "iterations True"),
        ("seed = false", "seed False"),
        ("max_inv = true", "max_inv True"),
        ("max_inv = 1e309", "max_inv"),
        ("symbols = [1, 2]", "bad symbol 1"),
        ("iterations = " + "9" * 5000, "malformed TOML"),
    ],
)
def test_toml_values(cli, tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[shadow]\n{toml}\n")
    base = () if toml.startswith("iterations") else FAST  # a flag would win over the file
    result = cli("shadow", *base, "--config", str(path))
    assert_one_line_error(result, needle, str(path))


def test_deeply_nested_toml_is_exit_2(cli, tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("[shadow]\nref_price = " + "[" * 5000 + "]" * 5000 + "\n")
    assert_one_line_error(cli("shadow", *FAST, "--config", str(path)), "nest too deeply", str(path))
    path.write_text("[shadow]\nref_price = " + "{a=" * 5000 + "1" + "}" * 5000 + "\n")
    assert_one_line_error(cli("shadow", *FAST, "--config", str(path)), "nest too deeply")


@pytest.mark.parametrize(
    "value",
    ["1969-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z"],
)
def test_freeze_time_out_of_range(cli, value: str) -> None:
    result = cli("shadow", *FAST, env={"MM_FREEZE_UTC_ISO": value})
    assert_one_line_error(result, f"invalid MM_FREEZE_UTC_ISO {value!r}: out of range", "(env MM_FREEZE_UTC_ISO)")


def test_freeze_time_bounds_are_inclusive(cli) -> None:
    for value in ("1970-01-01T00:00:00Z", "9999-12-31T00:00:00Z"):
        result = cli("shadow", *FAST, env={"MM_FREEZE_UTC_ISO": value})
        assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("symbols", ["bıtusdt", "ſolusdt", "BTCUSDT,ＥＴＨUSDT", "btcusdt,ethusdt\u0130"])
def test_symbols_are_ascii_only(cli, symbols: str) -> None:
    assert_one_line_error(cli("shadow", *FAST, "--symbols", symbols), "bad symbol", "(flag --symbols)")


def test_lower_case_ascii_symbols_still_accepted(cli) -> None:
    result = cli("shadow", *FAST, "--symbols", "btcusdt")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("MMEXEC_SHADOW__ITERATONS", "unknown key 'iteratons' in [shadow]; did you mean 'iterations'?"),
        ("MMEXEC_SHADOW__BOGUS", "unknown key 'bogus' in [shadow]"),
        ("mmexec_shadow__fill_rat", "did you mean 'fill_rate'?"),
    ],
)
def test_unknown_env_keys_refused(cli, name: str, needle: str) -> None:
    result = cli("shadow", *FAST, env={name: "5"})
    assert_one_line_error(result, needle, f"(env {name})")
    if "BOGUS" in name:
        assert "did you mean" not in result.stderr


def test_unknown_toml_key_suggests_close_name(cli, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[shadow]\nmax_invv = 5\n")
    assert_one_line_error(cli("shadow", *FAST, "--config", str(path)), "did you mean 'max_inv'?")
    path.write_text("[shadw]\n")
    assert_one_line_error(cli("shadow", *FAST, "--config", str(path)), "did you mean [shadow]?")


def test_validation_happens_before_any_output_is_written(cli, tmp_path: Path) -> None:
    out, fills = tmp_path / "r.json", tmp_path / "f.jsonl"
    result = cli("shadow", "--iterations", "200000", "--max-inv", "1e309", "--out", str(out),
                 "--fills-out", str(fills))
    assert_one_line_error(result, "max_inv")
    assert not out.exists() and not fills.exists()


def test_fees_command_shares_the_bounds(cli, tmp_path: Path) -> None:
    assert_one_line_error(cli("fees", "--fee-maker-bps", "1e309"), "fee_maker_bps", "(flag --fee-maker-bps)")
    path = tmp_path / "c.toml"
    path.write_text("[fees]\nfee_taker_bps = true\n")
    assert_one_line_error(cli("fees", "--config", str(path)), "fee_taker_bps True", str(path))
