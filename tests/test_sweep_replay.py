"""Sweeps over recorded data (``--market replay --data FILE…``): one run per file with ``--per-file``.

Skipped until the run settings have the ``market`` and ``data`` keys (replay support); the sweep's code path for
data files (run parameters, ``--per-file``, file checks on every worker) is in place and needs no change then.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES

from mmexec.config.run import ShadowSettings

pytestmark = pytest.mark.skipif(
    not {"market", "data"} <= set(ShadowSettings.model_fields),
    reason="replay support (run settings keys `market` and `data`, issue #11) is not on this branch yet",
)

FILES = sorted(str(p) for p in (FIXTURES / "market" / "binance-usdm").glob("*.gz"))


def _sweep(cli, *args: str):  # type: ignore[no-untyped-def]
    return cli("sweep", "--market", "replay", "--data", *FILES, "--grid", "requote_bps=1,2", *args)


def test_per_file_runs_give_the_same_bytes_on_one_and_two_workers(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    one = _sweep(cli, "--per-file", "--workers", "1", "--out", "one.jsonl")
    two = _sweep(cli, "--per-file", "--workers", "2", "--out", "two.jsonl")
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    lines = [json.loads(raw) for raw in (tmp_path / "one.jsonl").read_bytes().splitlines()]
    assert len(lines) == 4
    assert sorted({line["params"]["data"] for line in lines}) == FILES
    assert all(line["error"] is None for line in lines)


def test_without_per_file_the_files_merge_into_one_run(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _sweep(cli, "--workers", "1", "--out", "r.jsonl", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["requote_bps=1 seed=42", "requote_bps=2 seed=42"]


def test_a_missing_data_file_is_refused_before_anything_runs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", "--market", "replay", "--data", "missing.gz", "--grid", "requote_bps=1,2", "--out", "r.jsonl")
    assert result.exit_code == 2
    assert result.stderr == "error: data file 'missing.gz' does not exist (--data)\n"
    assert not (tmp_path / "r.jsonl").exists()
