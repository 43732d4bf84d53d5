"""Sweep results on disk: one canonical JSON line per run, streamed as runs finish, sorted by run key at the end.

While the sweep runs, ``--out`` grows in completion order (a crash or Ctrl-C loses at most the line being
written); :meth:`ResultStore.finalize` rewrites it atomically in run-key order, keeping the last line of each run
(a failed run that was retried is replaced). The coordinator holds result lines, never the reports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson

from mmexec.artifacts import write_atomic
from mmexec.errors import ConfigError
from mmexec.sweep.grid import JOURNAL_KEY, sort_key
from mmexec.sweep.runner import RunResult

_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]+")
_MAX_NAME = 120


def sweep_id(settings: Mapping[str, Any], params: Iterable[str], utc: str) -> str:
    """Fingerprint of what every run of the sweep shares (fixed settings, time stamp, version): resume guard."""
    from mmexec._version import __version__
    from mmexec.canonical import dumps

    # the journal key is always unset in a sweep (refused): leaving it out keeps ids from before it existed
    fixed = {k: v for k, v in settings.items() if k not in set(params) and k != JOURNAL_KEY}
    fixed = {k: (str(v) if isinstance(v, Path) else v) for k, v in fixed.items()}
    blob = dumps({"settings": fixed, "utc": utc, "version": __version__})
    return hashlib.sha256(blob).hexdigest()[:16]


def read_lines(path: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    """The complete result lines of ``path``, parsed and raw (a torn last line from a killed sweep is skipped)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(line, dict) and isinstance(line.get("run"), str):
                yield line, raw


def previous_utc(path: Path) -> str | None:
    """The time stamp of the runs already in ``--out`` (a resumed sweep keeps it)."""
    for line, _ in read_lines(path):
        utc = line.get("utc")
        return utc if isinstance(utc, str) else None
    return None


def report_name(key: str) -> str:
    """A file name for a run's report, readable and unique: ``fee_tier=VIP0,requote_bps=1,seed=3.json``."""
    safe = _UNSAFE.sub("_", key.replace(" ", ","))
    if safe != key.replace(" ", ",") or len(safe) > _MAX_NAME:
        safe = f"{safe[:_MAX_NAME]}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    return f"{safe}.json"


class ResultStore:
    def __init__(self, out: Path, sweep: str, *, resume: bool, reports_dir: Path | None = None) -> None:
        self.out = out
        self.sweep = sweep
        self.reports_dir = reports_dir
        self.done: set[str] = set()
        self._handle: IO[bytes] | None = None
        self._resume = resume

    def open(self) -> set[str]:
        """Start writing; with ``--resume`` return the keys of the runs that already succeeded (to skip)."""
        kept: list[bytes] = []
        if self._resume:
            for line, raw in read_lines(self.out):
                if line.get("sweep") != self.sweep:
                    raise ConfigError("--out holds results of another sweep (different run flags, time stamp or "
                                      "mmexec version); use another --out or drop --resume", source=f"--out {self.out}")
                if line.get("error") is None:
                    self.done.add(line["run"])
                    kept.append(raw)
        try:
            if self.reports_dir is not None:
                self.reports_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the reports directory: {exc.strerror}",
                              source=f"--reports-dir {self.reports_dir}") from None
        try:
            write_atomic(self.out, b"".join(kept))
            self._handle = self.out.open("ab")
        except OSError as exc:
            raise ConfigError(f"cannot write the results: {exc.strerror}", source=f"--out {self.out}") from None
        return set(self.done)

    def record(self, result: RunResult) -> None:
        assert self._handle is not None, "open() first"
        if result.report is not None and self.reports_dir is not None:
            write_atomic(self.reports_dir / report_name(result.key), result.report)
        self._handle.write(result.line)
        self._handle.flush()

    def finalize(self) -> int:
        """Rewrite ``--out`` sorted by run key (the last line of a run wins); return the number of runs."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        latest: dict[str, tuple[Any, bytes]] = {}
        for line, raw in read_lines(self.out):
            latest[line["run"]] = (sort_key(line.get("params") or {}), raw)
        ordered = sorted(latest.values(), key=lambda item: item[0])
        write_atomic(self.out, b"".join(data for _, data in ordered))
        return len(ordered)


def write_csv(results: Path, target: Path) -> None:
    """The sorted results as CSV (one row per run: key, parameters, metrics, report sha256, error)."""
    lines = [json.loads(raw, parse_float=Decimal) for raw in results.read_bytes().splitlines() if raw.strip()]
    params: list[str] = []
    metrics: list[str] = []
    for line in lines:
        params.extend(k for k in line.get("params") or {} if k not in params)
        metrics.extend(k for k in line.get("metrics") or {} if k not in metrics)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", *params, *metrics, "report_sha256", "error"])
    for line in lines:
        p, m = line.get("params") or {}, line.get("metrics") or {}
        writer.writerow([line["run"], *(_cell(p.get(k)) for k in params), *(_cell(m.get(k)) for k in metrics),
                         line.get("report_sha256") or "", line.get("error") or ""])
    write_atomic(target, buffer.getvalue().encode("utf-8"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)
