"""The sweep grid: ``--grid KEY=V1,V2``, ``--grid-file``, ``--seeds`` and data files -> a plan of validated runs.

Grid keys are the run settings keys (the long flag names with ``-`` -> ``_``). Every value is validated with the
settings model before anything runs; an error names the key, the value and its position in the grid.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mmexec.errors import ConfigError

SEED_KEY = "seed"
DATA_KEY = "data"
JOURNAL_KEY = "state"  # the run journal of a run command (refused by a sweep)
MAX_SEED = 2**63 - 1
MAX_RUNS = 1_000_000
# Keys that vary through their own option, never through --grid.
_OWN_OPTION = {SEED_KEY: "--seeds", DATA_KEY: "--data"}


@dataclass(frozen=True, slots=True)
class GridAxis:
    """One swept key: its values as the operator typed them, and where they came from."""

    key: str
    values: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One run of the sweep: its stable key, the parameters that vary, and its complete validated settings."""

    key: str
    combination: str  # the grid part of the key (what the summary groups seeds and files by)
    params: Mapping[str, Any]  # the varying parameters (grid keys, seed, data file), validated values
    settings: Mapping[str, Any]  # every run setting: what the worker runs


@dataclass(frozen=True, slots=True)
class SweepPlan:
    axes: tuple[GridAxis, ...]
    seeds: tuple[int, ...]
    data_groups: tuple[tuple[str, ...], ...]
    per_file: bool
    base: Mapping[str, Any]  # the validated settings shared by every run (before the grid applies)
    points: tuple[RunPoint, ...]

    def describe(self) -> str:
        """``12 runs = 2 × 2 grid × 3 seeds``."""
        parts = [" × ".join(str(len(a.values)) for a in self.axes) + " grid"] if self.axes else []
        if len(self.seeds) > 1 or not parts:
            parts.append(f"{len(self.seeds)} seed{'s' if len(self.seeds) != 1 else ''}")
        if self.per_file:
            parts.append(f"{len(self.data_groups)} data files")
        n = len(self.points)
        return f"{n} run{'s' if n != 1 else ''} = " + " × ".join(parts)


# --- parsing -------------------------------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """A TOML value as the text a flag would carry (lists join with commas, booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value_text(v) for v in value)
    return str(value)


def parse_grid_option(text: str) -> GridAxis:
    """``KEY=V1,V2,…`` (one ``--grid``)."""
    key, sep, values = text.partition("=")
    source = f"--grid {text}"
    if not sep or not key.strip():
        raise ConfigError(f"expected KEY=V1,V2,… got {text!r}", source="--grid")
    parts = [v.strip() for v in values.split(",")] if values.strip() else []
    if any(p == "" for p in parts):
        raise ConfigError(f"empty value in the grid of {key.strip()}", source=source)
    return GridAxis(normalize_key(key), tuple(parts), f"--grid {normalize_key(key)}")


def normalize_key(key: str) -> str:
    return key.strip().removeprefix("--").replace("-", "_").lower()


@dataclass(frozen=True, slots=True)
class GridFile:
    axes: tuple[GridAxis, ...]
    seeds: str | None
    run: Mapping[str, Any]


def load_grid_file(path: Path) -> GridFile:
    """``[grid]`` KEY = [values…]; optional top-level ``seeds = "1..20"`` and ``[run]`` fixed settings."""
    where = f"--grid-file {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"grid file {str(path)!r} does not exist", source="--grid-file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read grid file: {exc.strerror}", source=where) from None
    except UnicodeDecodeError:
        raise ConfigError("grid file is not valid UTF-8", source=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", source=where) from None
    unknown = sorted(set(data) - {"grid", "seeds", "run"})
    if unknown:
        raise ConfigError(f"unknown table or key {unknown[0]!r} (expected [grid], [run], seeds)", source=where)
    grid, run = data.get("grid", {}), data.get("run", {})
    if not isinstance(grid, dict) or not isinstance(run, dict):
        raise ConfigError("grid and run must be tables like [grid]", source=where)
    axes = []
    for key, values in grid.items():
        items = values if isinstance(values, list) else [values]
        axes.append(GridAxis(normalize_key(key), tuple(value_text(v) for v in items), f"{where} [grid] {key}"))
    seeds = data.get("seeds")
    seeds_text = None if seeds is None else value_text(seeds)
    return GridFile(tuple(axes), seeds_text, {normalize_key(k): value_text(v) for k, v in run.items()})


def parse_seeds(text: str, source: str = "--seeds") -> tuple[int, ...]:
    """``1..20``, ``1,2,5`` or a mix (``1..3,7``); inclusive ranges, no repeats."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, dots, last = part.partition("..")
        try:
            lo = int(first)
            hi = int(last) if dots else lo
        except ValueError:
            raise ConfigError(f"invalid seeds {part!r}: expected N, N..M or a comma-separated list", source=source) \
                from None
        if lo < 0 or hi > MAX_SEED or hi < lo:
            raise ConfigError(f"invalid seeds {part!r}: expected 0 <= N <= M <= {MAX_SEED}", source=source)
        if hi - lo >= MAX_RUNS:
            raise ConfigError(f"invalid seeds {part!r}: more than {MAX_RUNS} seeds", source=source)
        seeds.extend(range(lo, hi + 1))
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds repeat in {text!r}", source=source)
    return tuple(seeds)


def did_you_mean(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- the plan ------------------------------------------------------------------------------------------------


def check_axes(axes: Sequence[GridAxis], known: Sequence[str]) -> None:
    """Known keys, no key twice, no empty or repeated values (before any value is validated)."""
    seen: set[str] = set()
    for axis in axes:
        if axis.key in _OWN_OPTION:
            raise ConfigError(f"{axis.key} is swept with {_OWN_OPTION[axis.key]}, not --grid", source=axis.source)
        if axis.key not in known:
            raise ConfigError(f"unknown grid key {axis.key!r}{did_you_mean(axis.key, known)}", source=axis.source)
        if axis.key in seen:
            raise ConfigError(f"grid key {axis.key!r} given twice", source=axis.source)
        seen.add(axis.key)
        if not axis.values:
            raise ConfigError(f"empty grid: no values for {axis.key}", source=axis.source)
        if len(set(axis.values)) != len(axis.values):
            raise ConfigError(f"grid values of {axis.key} repeat", source=axis.source)


def combinations(axes: Sequence[GridAxis]) -> Iterator[tuple[tuple[str, str], ...]]:
    """Every combination of the grid values, as ((key, text), …) sorted by key."""
    ordered = sorted(axes, key=lambda a: a.key)
    for values in itertools.product(*(a.values for a in ordered)):
        yield tuple(zip((a.key for a in ordered), values, strict=True))


def run_key(params: Mapping[str, Any]) -> str:
    """The stable, human-readable key of a run: ``fee_tier=VIP0 requote_bps=1 seed=3`` (grid keys sorted)."""
    return " ".join(f"{k}={_text(v)}" for k, v in params.items())


def sort_key(params: Mapping[str, Any]) -> tuple[tuple[str, int, Decimal, str], ...]:
    """Runs sort by their parameters: numbers numerically, the rest as text (whatever order they finished in)."""
    out = []
    for name in _ordered_names(params):
        text = _text(params[name])
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and not isinstance(params[name], bool):
            out.append((name, 0, number, ""))
        else:
            out.append((name, 1, Decimal(0), text))
    return tuple(out)


def _ordered_names(params: Mapping[str, Any]) -> list[str]:
    tail = [k for k in (SEED_KEY, DATA_KEY) if k in params]
    return sorted(k for k in params if k not in tail) + tail


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def ordered_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in _ordered_names(params)}


def data_groups(files: Sequence[str], per_file: bool) -> tuple[tuple[str, ...], ...]:
    if not files:
        return ((),)
    return tuple((f,) for f in files) if per_file else (tuple(files),)


def build_points(axes: Sequence[GridAxis], seeds: Sequence[int], groups: Sequence[tuple[str, ...]], per_file: bool,
                 validate: Any) -> tuple[RunPoint, ...]:
    """Expand the grid; ``validate(overrides, source) -> settings dict`` raises ConfigError naming ``source``."""
    total = len(seeds) * len(groups)
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_RUNS:
        raise ConfigError(f"the sweep has {total} runs (more than {MAX_RUNS})", source="--grid")
    data = {DATA_KEY: list(groups[0])} if groups[0] else {}
    # Each value alone first, so that an error names the value's position in its axis.
    for axis in axes:
        for i, text in enumerate(axis.values, 1):
            validate({**data, axis.key: text}, f"{axis.source}, value {i} of {len(axis.values)}")
    points = []
    for combo in combinations(axes):
        combo_text = " ".join(f"{k}={v}" for k, v in combo)
        settings = validate({**data, **dict(combo)}, f"--grid combination {combo_text}" if combo else "run flags")
        grid_values = {k: settings[k] for k, _ in combo}
        combination = run_key(grid_values)
        for seed in seeds:
            for group in groups:
                full = {**settings, SEED_KEY: seed}
                params: dict[str, Any] = {**grid_values, SEED_KEY: seed}
                if group:
                    full[DATA_KEY] = list(group)
                    if per_file:
                        params[DATA_KEY] = group[0]
                params = ordered_params(params)
                points.append(RunPoint(run_key(params), combination, params, full))
    seen: dict[str, RunPoint] = {}
    for point in points:
        if point.key in seen:
            raise ConfigError(f"two grid values give the same run {point.key!r} (the settings model normalises them "
                              "to the same value)", source=f"--grid combination {point.combination}")
        seen[point.key] = point
    return tuple(sorted(points, key=lambda p: sort_key(p.params)))


def _refuse_journal(axes: Sequence[GridAxis], base: Mapping[str, Any]) -> None:
    """The run journal (``state``, ``--state``) belongs to one run command: a sweep's runs are not journaled."""
    for axis in axes:
        if axis.key == JOURNAL_KEY:
            raise ConfigError("a sweep does not journal its runs: state cannot be swept", source=axis.source)
    if base.get(JOURNAL_KEY) is not None:
        raise ConfigError("a sweep does not journal its runs: remove the state key (--state, MMEXEC_SHADOW__STATE "
                          "or [shadow] state)", source="state")


def make_plan(settings_cls: Any, run_flags: Mapping[str, Any], axes: Sequence[GridAxis], seeds: Sequence[int] | None,
              files: Sequence[str], per_file: bool, config_file: Any = None) -> SweepPlan:
    """Validate the run flags, every grid value and every combination with the run settings model."""
    from mmexec.config.base import load_settings

    known = sorted(settings_cls.model_fields)
    check_axes(axes, known)
    if files and DATA_KEY not in known:
        raise ConfigError("data files need replay support (--market replay), which this build does not have",
                          source="--data")
    if per_file and not files:
        raise ConfigError("--per-file needs data files (--data FILE…)", source="--per-file")
    base = dict(load_settings(settings_cls, run_flags, config_file).settings.model_dump())
    _refuse_journal(axes, base)

    def validate(overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
        try:
            loaded = load_settings(settings_cls, {**run_flags, **overrides}, config_file)
        except ConfigError as exc:
            raise ConfigError(exc.message, source=source) from None
        return dict(loaded.settings.model_dump())

    seed_list = tuple(seeds) if seeds else (int(base[SEED_KEY]),)
    groups = data_groups(files, per_file)
    if not axes and len(seed_list) == 1 and len(groups) == 1:
        raise ConfigError("empty grid: nothing varies (give --grid KEY=V1,V2, --grid-file, --seeds or --data)",
                          source="--grid")
    points = build_points(axes, seed_list, groups, per_file, validate)
    return SweepPlan(tuple(axes), seed_list, groups, per_file, base, points)
