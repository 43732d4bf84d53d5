"""The checkpoint unpickler's allow-list follows packages, not a list of classes: state objects added later
(a venue's queue model, markout or timeline books, a replay market) restore without touching the journal."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from mmexec.journal.schema import JournalError
from mmexec.journal.snapshot import RestrictedUnpickler, dump_snapshot, load_snapshot
from tests.journal_support import continued_from_snapshot

NEW_STATE_MODULES = ("mmexec.exchanges.queue_test_state", "mmexec.accounting.markout_test_state",
                     "mmexec.accounting.timeline.test_state", "mmexec.marketdata.replay_test_state",
                     "mmexec.engine.ticks_test_state")
REFUSED_MODULES = ("mmexec.marketdata.live.test_state", "mmexec.cli.test_state", "mmexec.config.test_state",
                   "mmexec.secrets.test_state", "mmexec.moneybag_test_state", "mmexec.artifacts_test_state",
                   "mmexec.exchanges.bybit.test_state")


def _module_with_state(name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    @dataclass(slots=True)
    class QueueState:
        ahead_lots: dict[str, int] = field(default_factory=dict)
        price: Decimal = Decimal("0")

    QueueState.__module__ = name
    QueueState.__qualname__ = "QueueState"
    module.QueueState = QueueState  # type: ignore[attr-defined]
    return module


@pytest.fixture
def registered() -> Iterator[dict[str, types.ModuleType]]:
    modules = {name: _module_with_state(name) for name in (*NEW_STATE_MODULES, *REFUSED_MODULES)
               if name not in sys.modules}
    sys.modules.update(modules)
    try:
        yield modules
    finally:
        for name in modules:
            sys.modules.pop(name, None)


@pytest.mark.parametrize("module", NEW_STATE_MODULES)
def test_a_new_state_class_under_a_state_package_restores(registered: dict[str, types.ModuleType],
                                                          module: str) -> None:
    state = registered[module].QueueState({"BTCUSDT": 12}, Decimal("100.5"))  # type: ignore[attr-defined]
    restored = load_snapshot(dump_snapshot([state]))
    assert restored == [state]
    assert type(restored[0]).__module__ == module


@pytest.mark.parametrize("module", REFUSED_MODULES)
def test_classes_of_io_cli_config_and_lookalike_modules_are_refused(registered: dict[str, types.ModuleType],
                                                                     module: str) -> None:
    blob = dump_snapshot(registered[module].QueueState())  # type: ignore[attr-defined]
    with pytest.raises(JournalError, match="may not load"):
        load_snapshot(blob)


def test_the_fills_writer_module_is_refused() -> None:
    unpickler = RestrictedUnpickler.__new__(RestrictedUnpickler)
    with pytest.raises(JournalError, match="may not load"):
        unpickler.find_class("mmexec.fees.fills_io", "FillsWriter")


@pytest.mark.parametrize("changes", [
    {"edge_threshold": 0, "partial_fill_rate": 0.5, "reject_rate": 0.2, "latency_ms": 0},
    {"unfreeze_after_ms": 1000},  # the kill switch trips and recovers
    {"edge_threshold": 0, "skew_bps": Decimal("1"), "quote_offset_ticks": 2, "fee_tier": "VIP2",
     "symbols": ("BTCUSDT", "ETHUSDT", "SOLUSDT")},
], ids=["fills-rejects", "freezes", "strategy-fees"])
def test_every_feature_state_loads_back_and_continues_identically(changes: dict[str, object]) -> None:
    """Whatever state the engine, venue, market and books hold (today's and tomorrow's), a mid-run checkpoint
    loads with the restricted unpickler and the run continues to the same report bytes."""
    from mmexec.canonical import dumps
    from mmexec.run.spec import RunSpec

    whole, restored, _ = continued_from_snapshot(RunSpec().replace(iterations=300, **changes), at=150)
    assert dumps(restored.result().to_report()) == dumps(whole.result().to_report())
