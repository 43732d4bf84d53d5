"""Developer and CI sessions: `nox` runs lint, typecheck and tests (each in its own virtualenv, built with uv)."""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests", "fresh_clone", "compiled"]
nox.options.error_on_missing_interpreters = True

# Only the package registry is reachable in CI: never let uv download an interpreter.
UV_ENV = {"UV_PYTHON_DOWNLOADS": "never"}


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint, import order) and import-linter (the layers in pyproject.toml's [tool.importlinter])."""
    session.install("ruff>=0.6", "import-linter>=2.1", env=UV_ENV)
    session.run("ruff", "check", "mmexec", "tests", "examples", "benchmarks", "noxfile.py")
    session.install("-e", ".", env=UV_ENV)  # lint-imports reads the installed package's import graph
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[dev]", env=UV_ENV)
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite with coverage of the engine, exchanges and the rest of the package."""
    session.install("-e", ".[dev]", env=UV_ENV)
    session.run(
        "pytest",
        "--cov=mmexec",
        "--cov-report=term",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Performance figures (not part of CI): quotes/s, peak memory, CLI start-up."""
    session.install("-e", ".", env=UV_ENV)
    session.run("python", "benchmarks/bench_engine.py", *session.posargs)
    session.run("python", "benchmarks/bench_report_diff.py", "--repeat", "1")


# Tests that read every fixture kind (signature vectors, V5 shapes, market captures) and the examples.
FRESH_CLONE_TESTS = [
    "tests/test_self_contained.py",
    "tests/test_bybit_signing.py",
    "tests/test_bybit_client.py",
    "tests/test_examples.py",
    "tests/test_snapshots_shadow.py",
]


@nox.session
def fresh_clone(session: nox.Session) -> None:
    """A clone with nothing beside it (as a user gets it) installs and passes a quick subset of the suite."""
    root = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="mmexec-fresh-clone-") as tmp:
        clone = Path(tmp) / "mmexec"
        session.run("git", "clone", "--quiet", "--no-hardlinks", str(root), str(clone), external=True)
        session.install("-e", f"{clone}[dev]", env=UV_ENV)
        session.chdir(clone)
        tests = [t for t in FRESH_CLONE_TESTS if (clone / t).exists()]
        session.run("pytest", "-q", "-p", "no:cacheprovider", *tests, *session.posargs)


# The compiled engine's proof of identical behaviour: byte snapshots, fixed point, determinism, the examples, the
# engine, venue and PnL tests, journal checkpoints (resume, kills).
COMPILED_TESTS = [
    "tests/test_snapshots_shadow.py",
    "tests/test_replay_reports.py",
    "tests/test_fixed_point.py",
    "tests/test_determinism.py",
    "tests/test_examples.py",
    "tests/test_engine_loop.py",
    "tests/test_engine_order_store.py",
    "tests/test_engine_risk.py",
    "tests/test_engine_fake_exchange.py",
    "tests/test_engine_market.py",
    "tests/test_engine_clock.py",
    "tests/test_engine_audit.py",
    "tests/test_engine_properties.py",
    "tests/test_queue_venue.py",
    "tests/test_pnl.py",
    "tests/test_money.py",
    "tests/test_fees_calc.py",
    "tests/test_recon.py",
    "tests/test_timeline.py",
    "tests/test_timeline_spine.py",
    "tests/test_stop_cancels_orders.py",
    "tests/test_journal_snapshot.py",
    "tests/test_journal_allow_list.py",
    "tests/test_journal_resume.py",
    "tests/test_journal_replay.py",
    "tests/test_journal_wiring.py",
    "tests/test_cli_shadow.py",
]
_ASSERT_COMPILED = """
import importlib, sys
from importlib.machinery import EXTENSION_SUFFIXES
modules = sys.argv[1:]
pure = [m for m in modules if not importlib.import_module(m).__file__.endswith(tuple(EXTENSION_SUFFIXES))]
if pure:
    sys.exit(f"not compiled: {', '.join(pure)}")
print(f"compiled with mypyc: {len(modules)} modules")
"""


@nox.session
def compiled(session: nox.Session) -> None:
    """The mypyc-compiled engine: a wheel as `pip install .` builds it (not editable), checked to be compiled, then
    the tests that prove it behaves like the pure-Python engine, run against it."""
    root = Path(__file__).resolve().parent
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    modules = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["custom"]["compiled-modules"]
    env = {**UV_ENV, "MMEXEC_PURE_PYTHON": ""}
    # never a cached build of an older source tree (uv caches local builds by pyproject.toml, not by the sources)
    fresh = ["--reinstall-package", "mmexec", "--refresh-package", "mmexec"] if session.venv_backend == "uv" else []
    session.install(*fresh, f"{root}[dev]", env=env)
    with tempfile.TemporaryDirectory(prefix="mmexec-compiled-") as tmp:
        # the tests without the source tree beside them: `import mmexec` is the installed wheel
        work = Path(tmp)
        for name in ("tests", "examples"):
            shutil.copytree(root / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(root / "pyproject.toml", work / "pyproject.toml")
        session.chdir(work)
        session.run("python", "-c", _ASSERT_COMPILED, *modules)
        session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--engine=compiled", *COMPILED_TESTS,
                    *session.posargs)
