"""Wheel build hook: compiles the engine's hot modules with mypyc (a platform wheel), or leaves them pure Python.

The modules are listed once, in pyproject.toml (``[tool.hatch.build.targets.wheel.hooks.custom]``,
``compiled-modules``). A wheel (``pip install .``) gets them compiled next to their sources (an extension module
is imported before a ``.py`` of the same name); an editable install (``pip install -e .``) and
``MMEXEC_PURE_PYTHON=1`` stay pure Python. If compiling fails (no C compiler, no Python headers, mypyc missing)
the hook says so on stderr and the wheel is built pure Python: installing never fails because of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PURE_ENV = "MMEXEC_PURE_PYTHON"
GROUP = "mmexec"  # the shared library of the compiled modules is the top-level module mmexec__mypyc

# Runs in the build environment (mypy and setuptools from [build-system] requires), in a scratch copy of the
# package: mypyc type-checks the modules, writes C and builds the extensions in place.
_COMPILE = """
import sys
from mypyc.build import mypycify
from setuptools import setup
modules = sys.argv[1:]
setup(name="mmexec-compiled", ext_modules=mypycify(["--ignore-missing-imports", *modules], opt_level="3",
      group_name={group!r}), script_args=["build_ext", "--inplace"])
"""


def _warn(message: str) -> None:
    print(f"warning: mmexec: {message}; building the pure-Python wheel", file=sys.stderr)


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc,type-arg,unused-ignore]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._scratch: str | None = None
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get(PURE_ENV, "") not in ("", "0"):
            return
        modules = [str(m) for m in self.config.get("compiled-modules", [])]
        if not modules:
            return
        self._scratch = tempfile.mkdtemp(prefix="mmexec-mypyc-")
        built = self._compile(Path(self._scratch), modules)
        if built is None:
            return
        for path in built:
            build_data["force_include"][str(path)] = str(path.relative_to(self._scratch))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True  # cp3XX-cp3XX-<platform>: the extensions are for this interpreter

    def _compile(self, scratch: Path, modules: list[str]) -> list[Path] | None:
        """The built extension files (under ``scratch``), or ``None`` after a warning."""
        root = Path(self.root)
        shutil.copytree(root / "mmexec", scratch / "mmexec", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        sources = [str(Path(*module.split("."))) + ".py" for module in modules]
        missing = [s for s in sources if not (scratch / s).is_file()]
        if missing:
            _warn(f"modules to compile not found: {', '.join(missing)}")
            return None
        self.app.display_info(f"mmexec: compiling {len(sources)} modules with mypyc")
        try:
            done = subprocess.run(  # noqa: S603 (our own interpreter and script)
                [sys.executable, "-c", _COMPILE.format(group=GROUP), *sources],
                cwd=scratch, capture_output=True, text=True, check=False,
            )
        except OSError as exc:
            _warn(f"mypyc could not run ({exc})")
            return None
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            _warn(f"compiling with mypyc failed:\n{tail}\n")
            return None
        suffixes = (".so", ".pyd")
        built = sorted(p for p in scratch.rglob("*")
                       if p.suffix in suffixes and p.relative_to(scratch).parts[0] != "build")
        expected = {Path(s).with_suffix("") for s in sources}
        compiled = {p.relative_to(scratch).with_suffix("").with_suffix("") for p in built}
        if not expected <= compiled:
            _warn(f"mypyc built no extension for {sorted(map(str, expected - compiled))}")
            return None
        return built

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
