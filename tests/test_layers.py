"""The layering of the package: no import cycles, and the engine stands alone (the contracts themselves are
``[tool.importlinter]`` in pyproject.toml, checked by ``lint-imports`` in the nox ``lint`` session)."""

from __future__ import annotations

import json
import subprocess
import sys

import grimp
import pytest


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("type_checking", [False, True], ids=["runtime", "with-type-checking"])
def test_the_import_graph_has_no_cycles(type_checking: bool) -> None:
    graph = grimp.build_graph("mmexec", exclude_type_checking_imports=not type_checking)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


def test_importing_the_engine_loads_no_adapter_cli_config_or_run_module() -> None:
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import mmexec.engine\n"
        "for m in pkgutil.iter_modules(mmexec.engine.__path__):\n"
        "    importlib.import_module('mmexec.engine.' + m.name)\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.startswith('mmexec'))))\n"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       timeout=60).stdout)
    assert "mmexec.engine.loop" in loaded
    upward = ("mmexec.exchanges", "mmexec.cli", "mmexec.config", "mmexec.run", "mmexec.secrets", "mmexec.fees",
              "mmexec.accounting")
    assert [name for name in loaded if name.startswith(upward)] == []
