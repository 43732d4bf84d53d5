"""The README and the pages under docs/ match the code: module map, module paths, links, the command list."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def section(text: str, heading: str) -> str:
    """The lines under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines))
                if re.match(rf"#{{1,{len(level)}}} ", lines[i])), len(lines))
    return "\n".join(lines[start:end])


def module_map_rows() -> dict[str, str]:
    """Module map of the README: first column (the paths, as written) -> the whole row."""
    rows = {}
    for line in section(README.read_text(encoding="utf-8"), "### Module map").splitlines():
        cells = line.split(" | ")
        if line.startswith("| `mmexec") and len(cells) >= 2:
            rows[cells[0].lstrip("| ")] = line
    return rows


def test_the_module_map_names_every_module() -> None:
    rows = module_map_rows()
    missing = []
    for path in sorted((ROOT / "mmexec").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if len(rel.parts) == 2:  # mmexec/x.py: named in the first column of a row
            if not any(f"`{rel.as_posix()}`" in first or f"`{rel.name}`" in first for first in rows):
                missing.append(rel.as_posix())
            continue
        if path.name == "__init__.py":
            continue
        row = rows.get(f"`mmexec/{rel.parts[1]}/`", "")
        if f"`{path.stem}`" not in row and f"`{path.name}`" not in row:
            missing.append(rel.as_posix())
    assert missing == []


def test_every_module_path_in_the_docs_exists() -> None:
    # a module path (`mmexec/x/`, `mmexec/x/y.py`), not a name that looks like one (`mmexec/bybit/shadow`)
    wrong = []
    for page in PAGES:
        for match in re.finditer(r"`(mmexec/(?:\w+/)*(?:\w+\.py)?)(?=[`:\s])", page.read_text(encoding="utf-8")):
            if not (ROOT / match.group(1)).exists():
                wrong.append(f"{page.name}: {match.group(1)}")
    assert wrong == []


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings (lower case, punctuation dropped, spaces -> '-')."""
    found, fence = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        fence ^= line.startswith("```")
        heading = re.match(r"#+ (.*)", line)
        if heading and not fence:
            found.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return found


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in PAGES:
        for match in re.finditer(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            target, _, anchor = match.group(1).partition("#")
            if target.startswith(("http://", "https://")):
                continue
            linked = (page.parent / target) if target else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
                broken.append(f"{page.name}: {match.group(1)}")
    assert broken == []


def help_text(*command: str) -> str:
    """``mmexec COMMAND --help``, in process (Typer's runner), at a width that folds nothing."""
    from typer.testing import CliRunner

    from mmexec.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def help_commands(*group: str) -> set[str]:
    listing = help_text(*group).split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return {" ".join((*group, m.group(1))) for m in re.finditer(r"^  ([a-z][a-z-]*) {2,}\S", listing, re.M)}


def test_the_cli_list_of_the_readme_is_every_command() -> None:
    listed = section(README.read_text(encoding="utf-8"), "## The CLI").split("```text", 1)[1].split("```", 1)[0]
    in_readme = set()
    for line in listed.splitlines():
        words = line.split("  ", 1)[0].split()
        if words[:1] == ["mmexec"] and not words[1].startswith("-"):
            in_readme |= {" ".join(words[1:]).replace(" | ", "|")}
    in_readme = {name for entry in in_readme for name in entry.split("|")}
    top = help_commands()
    expected = (top - {"report", "config", "secrets"}) | help_commands("report") | help_commands("config")
    expected |= {"secrets"}  # listed with its subcommands (save | show | list | delete) in the description
    assert in_readme == expected


COMMANDS = ("shadow", "bybit-dryrun", "fees", "secrets save", "secrets show", "secrets list", "secrets delete",
            "report diff", "report show", "report html", "config show", "record", "sweep", "orders", "fills", "")
# Flags of other programs the docs mention: Chromium, dask worker, hftbacktest's reference script, pytest, mypy,
# the benchmark; an example of a mistyped flag; a heading anchor.
FOREIGN = {"--host-resolver-rules", "--nworkers", "--nthreads", "--partial", "--snapshot-update", "--strict",
           "--workload", "--iteratons", "--market-replay-with---state",
           "--market-bybit-live-with---state", "--memory",
           "--engine", "--repeat", "--native"}  # benchmark and peer tools' flags (--engine: the test suite's,
# tests/conftest.py; --repeat: the benchmarks'; --native: py-spy's)


def test_every_flag_in_the_docs_is_a_flag_of_the_cli() -> None:
    real = {flag for command in COMMANDS for flag in re.findall(r"--[a-z][a-z0-9-]*", help_text(*command.split()))}
    mentioned = {flag for page in PAGES for flag in re.findall(r"--[a-z][a-z0-9-]*", page.read_text(encoding="utf-8"))}
    assert mentioned - real - FOREIGN == set()
