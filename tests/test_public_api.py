"""The public API of ``mmexec``: small, lazy, typed for users, with the README's names still importable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mmexec

ROOT = Path(__file__).resolve().parents[1]


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert sorted(mmexec.__all__) == sorted(["__version__", *mmexec._EXPORTS])
    for name in mmexec.__all__:
        assert getattr(mmexec, name) is not None


def test_readme_names_are_the_core_classes_plus_their_names() -> None:
    from mmexec.engine.order_store import InMemoryOrderStore
    from mmexec.engine.risk import RuntimeRiskMonitor

    assert issubclass(mmexec.InMemoryOrderStore, InMemoryOrderStore)
    assert issubclass(mmexec.RuntimeRiskMonitor, RuntimeRiskMonitor)
    assert not hasattr(RuntimeRiskMonitor, "check_before_order")  # one dialect in the core
    assert not hasattr(InMemoryOrderStore, "mark_open")
    assert hasattr(mmexec.RuntimeRiskMonitor, "check_before_order")
    assert hasattr(mmexec.InMemoryOrderStore, "transition")
    assert hasattr(mmexec.FakeExchangeClient, "place_limit_order")
    assert hasattr(mmexec.BybitRestClient, "place_limit_order")


def test_import_mmexec_is_lazy() -> None:
    code = ("import json, sys, mmexec; "
            "print(json.dumps(sorted(n for n in sys.modules if n.startswith(('mmexec', 'pydantic')))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       timeout=60).stdout)
    assert loaded == ["mmexec", "mmexec._version"]


@pytest.mark.slow
def test_examples_type_check_strictly_against_the_public_api() -> None:
    mypy = Path(sys.executable).with_name("mypy")
    if not mypy.exists():
        pytest.skip("mypy is not installed")
    result = subprocess.run([str(mypy), "--strict", "--no-incremental", "examples"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout
