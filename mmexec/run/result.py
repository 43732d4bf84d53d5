"""The typed result of a run: :class:`RunResult`, assembled from parts that each own their report section.

A part is anything with ``name`` and ``section()`` (:class:`ReportPart`): the engine's core sections, fees,
PnL, reconciliation, the venue's own section, config and runtime, the timeline -- later market, markouts. No part
reads another part's output; :meth:`RunResult.to_report` merges them once, and :meth:`RunResult.to_json`
serializes that once, at the edge, to the canonical bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class ReportPart(Protocol):
    """One or more top-level sections of the report."""

    def sections(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Section:
    """A part that is one named section computed on demand."""

    name: str
    build: Callable[[], Any]

    def sections(self) -> Mapping[str, Any]:
        return {self.name: self.build()}


@dataclass(frozen=True, slots=True)
class Sections:
    """A part that owns several sections at once (the engine's core, a venue's extension)."""

    build: Callable[[], Mapping[str, Any]]

    def sections(self) -> Mapping[str, Any]:
        return self.build()


class RunResult:
    """The parts of one run's report, in the order they are merged (a later part never overrides)."""

    __slots__ = ("_cache", "parts")

    def __init__(self, parts: list[ReportPart]) -> None:
        self.parts = parts
        self._cache: dict[str, Any] | None = None

    def to_report(self) -> dict[str, Any]:
        """The report as exact values (``Decimal`` stays ``Decimal``)."""
        if self._cache is None:
            report: dict[str, Any] = {}
            for part in self.parts:
                for name, section in part.sections().items():
                    if name in report:
                        raise ValueError(f"two parts produce the report section {name!r}")
                    report[name] = section
            self._cache = report
        return self._cache

    def __getitem__(self, name: str) -> Any:
        return self.to_report()[name]

    def to_json(self) -> bytes:
        """The canonical JSON bytes of the report (:mod:`mmexec.canonical`)."""
        from mmexec.canonical import dumps

        return dumps(self.to_report())


__all__ = ["ReportPart", "RunResult", "Section", "Sections"]
