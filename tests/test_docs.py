"""The documents cannot drift from the code, nor from each other.

- docs/ARCHITECTURE.md's module table names every module under streamtail/, and nothing else;
- every repository path the code, the tests and the documents cite exists, a document cited with
  a section (`docs/CONTRACT.md, "Exit codes"`) has that section, and the project's documents are
  cited by their path (`docs/SERVERS.md`, not a bare `SERVERS.md` a reader cannot find);
- docs/CONTRACT.md and the README give the same NDJSON fields and exit codes, row for row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "streamtail"
DOCS = ROOT / "docs"

#: where citations are looked for
CITING = [
    *sorted(PACKAGE.rglob("*.py")),
    *sorted((ROOT / "tests").rglob("*.py")),
    *sorted((ROOT / "bench").rglob("*.py")),
    *sorted(DOCS.glob("*.md")),
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
]
#: a repository path: a known top folder, then a file with an extension or a folder
PATH = re.compile(
    r"(?<![\w./-])((?:docs|tests|streamtail|bench|completions|requirements|\.ci)"
    r"/[\w./-]*[\w/])"
)
#: a path that names a file (an extension) or a folder (a trailing slash); others are prose
CHECKED = re.compile(r"\.(?:py|md|json|txt|toml|ndjson|js)$|/$")
#: `docs/NAME.md, "Section"` or `docs/NAME.md, Section` as the code cites a part of a document
SECTION = re.compile(r"(docs/\w+\.md), (?:\"([^\"]+)\"|([A-Z][A-Za-z ]*[a-z]))")
#: a path on some machine (a home, a work folder, a sibling of the checkout): never cited
MACHINE_PATH = re.compile(r"(?<![\w.])(?:/wor[k]/|/home/\w|/Users/\w|\.\./shared\b)")
BARE_DOC = re.compile(r"(?<![\w/])(?:CONTRACT|SERVERS|ARCHITECTURE|PERFORMANCE)\.md")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _cited_paths() -> dict[str, list[str]]:
    """Cited repository path -> the files citing it (this file's own examples left out)."""
    cited: dict[str, list[str]] = {}
    for path in CITING:
        if path == Path(__file__).resolve():
            continue
        for match in PATH.finditer(_text(path)):
            name = match.group(1)
            if CHECKED.search(name):
                cited.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return cited


def test_every_cited_path_exists() -> None:
    cited = _cited_paths()
    assert "docs/CONTRACT.md" in cited  # the scan finds citations at all
    missing = {name: where for name, where in cited.items() if not (ROOT / name).exists()}
    assert missing == {}


def test_documents_are_cited_by_their_path() -> None:
    bare = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in CITING
        if path != Path(__file__).resolve()
        for match in BARE_DOC.finditer(_text(path))
    ]
    assert bare == []


def test_no_machine_path_is_cited() -> None:
    """What the repository cites must exist for every reader: no path on a developer's machine."""
    cited = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in CITING
        if path != Path(__file__).resolve()
        for match in MACHINE_PATH.finditer(_text(path))
    ]
    assert cited == []


def _headings(path: Path) -> set[str]:
    """A document's headings, each also without a closing "(...)": "Decoding (decode/)"."""
    found = {m.group(1).strip() for m in re.finditer(r"^#+ (.+)$", _text(path), re.MULTILINE)}
    return found | {re.sub(r" \([^()]*\)$", "", heading) for heading in found}


def test_every_cited_section_exists() -> None:
    wrong: list[str] = []
    found = 0
    for path in CITING:
        if path == Path(__file__).resolve():
            continue
        # Docstrings and comments wrap: read a citation across the line break.
        text = re.sub(r"\s*\n\s*(?:#\s*)?", " ", _text(path))
        for doc, quoted, bare in SECTION.findall(text):
            found += 1
            section = quoted or bare
            if section not in _headings(ROOT / doc):
                wrong.append(f"{path.relative_to(ROOT)}: {doc}, {section!r}")
    assert found >= 5
    assert wrong == []


# -- docs/ARCHITECTURE.md's module table ---------------------------------------------------------


def _table_modules(text: str) -> list[str]:
    """The first cell of each row of the table under "## Modules"."""
    section = text.split("\n## Modules\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)


def _package_modules() -> set[str]:
    return {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}


def test_the_module_table_names_every_module_and_only_modules() -> None:
    named = _table_modules(_text(DOCS / "ARCHITECTURE.md"))
    assert sorted(named) == sorted(set(named)), "a module named twice"
    assert sorted(_package_modules() - set(named)) == [], "modules the table leaves out"
    assert sorted(set(named) - _package_modules()) == [], "modules the table names that are gone"


def test_the_module_table_check_has_teeth() -> None:
    text = _text(DOCS / "ARCHITECTURE.md")
    assert "typed_json.py" in _table_modules(text)
    assert "typed_json.py" not in _table_modules(text.replace("| `typed_json.py` |", "| x |"))


# -- docs/CONTRACT.md and the README agree -------------------------------------------------------


def _rows(text: str, heading: str) -> list[str]:
    """The table rows of one `## heading` section, in order."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")]


@pytest.mark.parametrize(
    "heading", ["NDJSON records (schema v1)", "top NDJSON objects", "Exit codes"]
)
def test_contract_and_readme_agree(heading: str) -> None:
    contract = _rows(_text(DOCS / "CONTRACT.md"), heading)
    readme = _rows(_text(ROOT / "README.md"), heading)
    assert len(contract) >= 8
    assert contract == readme
