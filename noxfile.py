"""Developer and CI sessions: `nox` runs lint, typecheck and tests (each in its own virtualenv, built with uv)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests", "fresh_clone"]
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
