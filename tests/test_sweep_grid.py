"""The sweep grid: seeds, grid options, grid files, run flags, and bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.config.run import ShadowSettings
from mmexec.errors import ConfigError
from mmexec.sweep.flags import parse_run_flags
from mmexec.sweep.grid import load_grid_file, make_plan, parse_grid_option, parse_seeds, sort_key


def test_seeds_ranges_and_lists() -> None:
    assert parse_seeds("1..5") == (1, 2, 3, 4, 5)
    assert parse_seeds("7") == (7,)
    assert parse_seeds("1..3, 9") == (1, 2, 3, 9)


@pytest.mark.parametrize("text", ["", "a", "3..1", "-1", "1,1", "1..2,2", "1...3"])
def test_bad_seeds_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_seeds(text)


def test_grid_option_keeps_the_text_and_normalises_the_key() -> None:
    axis = parse_grid_option("requote-bps=1, 2.50 ,4")
    assert (axis.key, axis.values) == ("requote_bps", ("1", "2.50", "4"))


def _plan(*grid: str, seeds: str | None = "1..2", flags: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return make_plan(ShadowSettings, flags or {}, [parse_grid_option(g) for g in grid],
                     parse_seeds(seeds) if seeds else None, [], False)


def test_plan_is_the_product_sorted_by_run_key() -> None:
    plan = _plan("requote_bps=10,2", "fee_tier=VIP2,VIP0", seeds="1..3")
    assert len(plan.points) == 12
    assert plan.describe() == "12 runs = 2 × 2 grid × 3 seeds"
    keys = [p.key for p in plan.points]
    assert keys[:4] == ["fee_tier=VIP0 requote_bps=2 seed=1", "fee_tier=VIP0 requote_bps=2 seed=2",
                        "fee_tier=VIP0 requote_bps=2 seed=3", "fee_tier=VIP0 requote_bps=10 seed=1"]
    point = plan.points[0]
    assert point.combination == "fee_tier=VIP0 requote_bps=2"
    assert point.settings["seed"] == 1 and point.settings["fee_tier"] == "VIP0"
    assert point.settings["iterations"] == 50  # the run's other settings are complete


def test_run_flags_apply_to_every_run() -> None:
    plan = _plan("requote_bps=1,2", flags={"iterations": "7", "fill_rate": "0.5"})
    assert {p.settings["iterations"] for p in plan.points} == {7}
    assert {p.settings["fill_rate"] for p in plan.points} == {0.5}


def test_unknown_grid_key_suggests_the_close_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown grid key 'requote'; did you mean 'requote_bps'\?"):
        _plan("requote=1,2")


def test_invalid_value_is_named_with_its_grid_position() -> None:
    with pytest.raises(ConfigError) as caught:
        _plan("fill_rate=0.5,0.9,1.5")
    assert "invalid fill_rate '1.5'" in str(caught.value)
    assert caught.value.source == "--grid fill_rate, value 3 of 3"


@pytest.mark.parametrize(("grid", "message"), [
    (("requote_bps=",), "empty grid: no values for requote_bps"),
    (("requote_bps=1,,2",), "empty value"),
    (("requote_bps=1,1",), "repeat"),
    (("requote_bps=1", "requote_bps=2"), "given twice"),
    (("seed=1,2",), "swept with --seeds"),
    (("nonsense",), "expected KEY=V1,V2"),
])
def test_bad_grids(grid: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _plan(*grid)


def test_nothing_varying_is_an_empty_grid() -> None:
    with pytest.raises(ConfigError, match="empty grid"):
        _plan(seeds=None)


def test_a_seed_only_sweep_is_fine() -> None:
    assert [p.key for p in _plan(seeds="3..4").points] == ["seed=3", "seed=4"]


def test_data_files_need_replay_support() -> None:
    if "data" in ShadowSettings.model_fields:
        pytest.skip("this build has replay: covered by test_sweep_replay")
    with pytest.raises(ConfigError, match="replay support"):
        make_plan(ShadowSettings, {}, [], None, ["a.gz"], True)


def test_grid_file(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text('seeds = "1..2"\n[grid]\nrequote_bps = [1, 2.5]\nfee_tier = ["VIP0"]\n[run]\niterations = 9\n')
    grid = load_grid_file(path)
    assert [(a.key, a.values) for a in grid.axes] == [("requote_bps", ("1", "2.5")), ("fee_tier", ("VIP0",))]
    assert grid.seeds == "1..2" and grid.run == {"iterations": "9"}


def test_malformed_grid_file(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text("[grid\n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_grid_file(path)
    path.write_text("[grids]\n")
    with pytest.raises(ConfigError, match="unknown table"):
        load_grid_file(path)


def test_run_flags_parse_like_the_shadow_command() -> None:
    fields = ShadowSettings.model_fields
    flags, data = parse_run_flags(["--iterations", "20", "--fill-rate=0.5", "--no-network", "--shadow",
                                   "--ref-price", "BTCUSDT=1", "--ref-price", "ETHUSDT=2"], fields)
    assert flags == {"iterations": "20", "fill_rate": "0.5", "network": False, "shadow": True,
                     "ref_price": ["BTCUSDT=1", "ETHUSDT=2"]}
    assert data == []
    assert parse_run_flags(["--data", "a.gz", "b.gz", "--seed", "3"], fields) == ({"seed": "3"}, ["a.gz", "b.gz"])


@pytest.mark.parametrize(("args", "message"), [
    (["--iteration", "3"], r"unknown run flag --iteration; did you mean '--iterations'\?"),
    (["stray"], "unexpected argument"),
    (["--iterations"], "needs a value"),
    (["--data"], "at least one FILE"),
])
def test_bad_run_flags(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_run_flags(args, ShadowSettings.model_fields)


@given(st.permutations(list(range(12))))
def test_sort_key_orders_numbers_numerically_whatever_the_input_order(order: list[int]) -> None:
    params = [{"requote_bps": v, "seed": s} for v in (1, 2, 10) for s in (1, 2, 3, 11)]
    shuffled = [params[i] for i in order]
    assert sorted(shuffled, key=sort_key) == params


def _run_cli(cli, *args: str):  # type: ignore[no-untyped-def]
    return cli("sweep", "--out", "r.jsonl", "--iterations", "5", *args)


@pytest.mark.parametrize(("args", "line"), [
    (("--grid", "requote=1,2"),
     "error: unknown grid key 'requote'; did you mean 'requote_bps'? (--grid requote)\n"),
    (("--grid", "fill_rate=0.5,1.5"),
     "error: invalid fill_rate '1.5': Input should be less than or equal to 1 (--grid fill_rate, value 2 of 2)\n"),
    (("--grid", "requote_bps="), "error: empty grid: no values for requote_bps (--grid requote_bps)\n"),
    ((), "error: empty grid: nothing varies (give --grid KEY=V1,V2, --grid-file, --seeds or --data) (--grid)\n"),
    (("--seeds", "1..2", "--rank-by", "net"),
     "error: unknown metric 'net'; did you mean 'net_pnl'? (one of fees, fill_ratio, fills, freezes, "
     "max_abs_inventory, net_pnl, orders_placed, realized_pnl, rebates, traded_notional, unrealized_pnl) "
     "(--rank-by)\n"),
    (("--seeds", "1..2", "--exchange", "bybit"),
     "error: sweeps run the simulated exchange (fake); the Bybit dry-run needs API credentials, which are never "
     "sent to sweep workers (--exchange)\n"),
    (("--seeds", "1..2", "--scheduler", "http://x"),
     "error: invalid scheduler address 'http://x': expected tcp://HOST:PORT (--scheduler)\n"),
])
def test_cli_bad_input_is_one_line_exit_2_and_nothing_written(cli, tmp_path: Path, args: tuple[str, ...],  # type: ignore[no-untyped-def]
                                                              line: str) -> None:
    result = _run_cli(cli, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == line
    assert result.stdout == ""
    assert not (tmp_path / "r.jsonl").exists()


def test_cli_dry_run_lists_the_runs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _run_cli(cli, "--grid", "requote_bps=1,2", "--seeds", "1..2", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == ("requote_bps=1 seed=1\nrequote_bps=1 seed=2\nrequote_bps=2 seed=1\n"
                             "requote_bps=2 seed=2\n")
    assert result.stderr == "sweep: 4 runs = 2 grid × 2 seeds (dry run)\n"
    assert not (tmp_path / "r.jsonl").exists()


def test_data_files_are_run_parameters_and_per_file_makes_each_its_own_run() -> None:
    """The replay code path, on a settings model with the ``data`` key (the real one arrives with replay)."""
    from pydantic import Field

    class ReplaySettings(ShadowSettings):
        market: str = "synthetic"
        data: list[str] = Field(default_factory=list)

    per_file = make_plan(ReplaySettings, {"market": "replay"}, [parse_grid_option("requote_bps=1,2")], None,
                         ["b.gz", "a.gz"], True)
    assert [p.key for p in per_file.points] == ["requote_bps=1 seed=42 data=a.gz", "requote_bps=1 seed=42 data=b.gz",
                                                "requote_bps=2 seed=42 data=a.gz", "requote_bps=2 seed=42 data=b.gz"]
    assert per_file.points[0].settings["data"] == ["a.gz"] and per_file.points[0].combination == "requote_bps=1"
    assert per_file.describe() == "4 runs = 2 grid × 2 data files"
    merged = make_plan(ReplaySettings, {"market": "replay"}, [parse_grid_option("requote_bps=1,2")], None,
                       ["b.gz", "a.gz"], False)
    assert [p.key for p in merged.points] == ["requote_bps=1 seed=42", "requote_bps=2 seed=42"]
    assert merged.points[0].settings["data"] == ["b.gz", "a.gz"]


def test_cli_dry_run_needs_no_out_but_a_real_sweep_does(cli) -> None:  # type: ignore[no-untyped-def]
    listed = cli("sweep", "--seeds", "1..2", "--dry-run", "--json")
    assert listed.exit_code == 0
    assert listed.stdout == '{"params":{"seed":1},"run":"seed=1"}\n{"params":{"seed":2},"run":"seed=2"}\n'
    missing = cli("sweep", "--seeds", "1..2")
    assert missing.exit_code == 2
    assert missing.stderr == "error: --out FILE is required (the result file) (--out)\n"


@given(
    requote=st.lists(st.integers(0, 50), min_size=1, max_size=4, unique=True),
    tiers=st.lists(st.sampled_from(["VIP0", "VIP1", "VIP2", "VIP3"]), min_size=1, max_size=3, unique=True),
    seeds=st.lists(st.integers(0, 2**40), min_size=1, max_size=4, unique=True),
)
def test_plan_has_one_run_per_combination_with_unique_sorted_keys(requote: list[int], tiers: list[str],
                                                                  seeds: list[int]) -> None:
    grid = [parse_grid_option("requote_bps=" + ",".join(map(str, requote))),
            parse_grid_option("fee_tier=" + ",".join(tiers))]
    plan = make_plan(ShadowSettings, {}, grid, tuple(seeds), [], False)
    keys = [p.key for p in plan.points]
    assert len(keys) == len(set(keys)) == len(requote) * len(tiers) * len(seeds)
    assert [p.params for p in plan.points] == sorted((p.params for p in plan.points), key=sort_key)
    assert {p.settings["seed"] for p in plan.points} == set(seeds)
    shuffled = make_plan(ShadowSettings, {}, grid[::-1], tuple(reversed(seeds)), [], False)
    assert [p.key for p in shuffled.points] == keys  # the order of --grid options and seeds does not matter


def test_values_that_validate_to_the_same_setting_are_refused() -> None:
    with pytest.raises(ConfigError, match="two grid values give the same run 'symbols=BTCUSDT seed=1'"):
        make_plan(ShadowSettings, {}, [_axis("symbols", "btcusdt", "BTCUSDT")], (1, 2), [], False)


def _axis(key: str, *values: str):  # type: ignore[no-untyped-def]
    from mmexec.sweep.grid import GridAxis

    return GridAxis(key, values, f"--grid {key}")
