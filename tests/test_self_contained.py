"""The repository stands alone: no code, test, example, benchmark or CI script reads outside the clone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Anything that would reach a sibling checkout's shared material, or the development-only spec files.
OUTSIDE = re.compile(r"\.\./shared|parents\[2\]\s*/\s*[\"']shared|shared/fixtures|shared/seed|CONVENTIONS\.md")
SCANNED = ("mmexec", "tests", "examples", "benchmarks", ".ci")


def _files() -> list[Path]:
    found = [ROOT / "noxfile.py"]
    for top in SCANNED:
        found += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in {".py", ".toml", ".sh", ""}]
    return [p for p in found if "__pycache__" not in p.parts and p != Path(__file__).resolve()]


def test_nothing_reads_outside_the_repository() -> None:
    offenders = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                      if OUTSIDE.search(line)]
    assert offenders == []


def test_fixtures_have_provenance() -> None:
    readme = (ROOT / "tests" / "fixtures" / "README.md").read_text(encoding="utf-8")
    for path in (ROOT / "tests" / "fixtures").rglob("*"):
        if path.is_file() and path.name != "README.md" and path.parent.name != "v5":
            assert path.name in readme, f"{path.name} has no provenance line in tests/fixtures/README.md"
