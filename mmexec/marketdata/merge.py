"""Opening a set of capture files as one stream of market events, merged by effective receive time.

:func:`open_captures` detects each file's format (or takes the forced one), the symbols in it (from its first
lines), resolves the instrument grids, and returns a :class:`ReplaySource` whose :meth:`events` merges the
files by effective receive time (ties keep the order of the files on the command line, then file order).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mmexec.errors import ConfigError, InputError
from mmexec.marketdata import binance, bybit
from mmexec.marketdata.capture import (
    FORMATS,
    FileIdentity,
    FileStats,
    complete_lines,
    detect_format,
    peek,
    where,
)
from mmexec.marketdata.events import MarketEvent
from mmexec.marketdata.feedclock import FeedClock, latency_summary
from mmexec.marketdata.instruments import Grid, InstrumentSpec, resolve_instruments

_PARSERS = {"binance-usdm": binance.parse, "binance-spot": binance.parse, "bybit": bybit.parse}


@dataclass
class ReplaySource:
    """The files of one replay, their symbols and instrument grids."""

    files: list[FileStats]
    symbols: list[str]
    instruments: dict[str, InstrumentSpec]
    venue: str
    clocks: list[FeedClock] = field(default_factory=list)

    def grids(self) -> dict[str, tuple[Grid, Grid]]:
        return {s: (Grid(spec.tick_size), Grid(spec.lot_size)) for s, spec in self.instruments.items()}

    def events(self) -> Iterator[MarketEvent]:
        """The files' events from their start, merged (each call starts over, statistics included)."""
        for stats in self.files:
            stats.lines = stats.torn_lines = 0
            stats.messages.clear()
        grids = self.grids()
        only = frozenset(self.symbols)
        self.clocks = [FeedClock(stats.path) for stats in self.files]
        streams = [_PARSERS[stats.format](stats, grids, clock, only) for stats, clock in
                   zip(self.files, self.clocks, strict=True)]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=lambda ev: ev.local_ns)

    def latency(self) -> dict[str, object]:
        return latency_summary(self.clocks)

    # ---------------------------------------------------------------- journal checkpoints
    def identities(self) -> list[FileIdentity]:
        """Each file's absolute path, size and sha256 (hashed once per process, on the first checkpoint)."""
        found: list[FileIdentity] | None = self.__dict__.get("_identities")
        if found is None:
            found = self.__dict__["_identities"] = [FileIdentity.of(stats.path) for stats in self.files]
        return found

    def __getstate__(self) -> dict[str, object]:
        """Plain data only: the files' statistics, identities and receive clocks (the streams are not stored:
        :meth:`reopen` starts them again)."""
        self.identities()
        return dict(self.__dict__)

    def reopen(self) -> Iterator[MarketEvent]:
        """After a restore: check every file is the one the checkpoint was taken on (else :class:`InputError`
        "the capture changed"), then :meth:`events` from the start (its absolute path: a resume may run in
        another directory)."""
        for stats, identity in zip(self.files, self.identities(), strict=True):
            identity.check()
            stats.path = identity.path
        return self.events()


def open_captures(paths: Sequence[Path], *, data_format: str = "auto", symbols: Sequence[str] | None = None,
                  overrides: Mapping[str, InstrumentSpec] | None = None,
                  from_file: Mapping[str, InstrumentSpec] | None = None) -> ReplaySource:
    """Check every file up front (readable, known format, symbols); errors name the file (and line)."""
    if not paths:
        raise ConfigError("replay needs at least one market data file", source="--data")
    if data_format != "auto" and data_format not in FORMATS:
        raise ConfigError(f"unknown data format {data_format!r} (expected auto, {', '.join(FORMATS)})",
                          source="--data-format")
    files: list[FileStats] = []
    found: list[str] = []
    per_file: list[tuple[Path, dict[str, int]]] = []
    venues: set[str] = set()
    for path in paths:
        if not path.is_file():
            raise InputError("market data file not found", source=str(path))
        sample = peek(path)
        if not sample:
            raise InputError("empty market data file", source=str(path))
        fmt = detect_format(path, sample) if data_format == "auto" else data_format
        module = bybit if fmt == "bybit" else binance
        names = module.symbols_in(path, complete_lines(path))  # the whole file: also checks it reads to the end
        if not names:
            raise InputError(f"no {fmt} market data stream in the file", source=str(path))
        venues.add(fmt)
        files.append(FileStats(path, fmt))
        per_file.append((path, names))
        found.extend(n for n in names if n not in found)
    if len(venues) > 1:
        raise ConfigError(f"market data files of different venues ({', '.join(sorted(venues))}) cannot be "
                          "replayed together", source="--data")
    venue = venues.pop()
    if symbols:
        wanted = [s.upper() for s in symbols]
        absent = [s for s in wanted if s not in found]
        if absent:
            raise ConfigError(f"{', '.join(absent)} not in the market data (it has {', '.join(sorted(found))})",
                              source="--symbols")
        for path, names in per_file:
            extra = [s for s in names if s not in wanted]
            if extra:
                raise InputError(f"data for {extra[0]}, which is not among --symbols {','.join(wanted)}",
                                 source=where(path, names[extra[0]]))
        chosen = wanted
    else:
        chosen = sorted(found)
    instruments = resolve_instruments(venue, chosen, overrides or {}, from_file or {})
    return ReplaySource(files, chosen, instruments, venue)
