"""The import graph, drawn from the code: no cycle, and no import from a lower layer to a higher
one (docs/ARCHITECTURE.md, "Layers": the order is read from there, so the document and the code
cannot drift apart). Every import counts: module level, function level and `TYPE_CHECKING`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "streamtail"


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module under streamtail/."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str:
    """The streamtail module an imported name lives in (`streamtail.reader.Walker` ->
    `streamtail.reader`)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports(module: str) -> set[str]:
    """The streamtail modules `module` imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {_owner(a.name) for a in node.names if a.name.startswith("streamtail")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("streamtail"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in MODULES else _owner(base))
    found.discard(module)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def _layers() -> list[list[str]]:
    """The "Layers" table of docs/ARCHITECTURE.md: each row's paths, top row first."""
    text = (ROOT / "docs/ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| (.+) \|$", section, re.MULTILINE)
    return [re.findall(r"`([^`]+)`", cells) for name, cells in rows if name != "layer"]


def layer_of() -> dict[str, int]:
    """Module -> its layer's row: the most specific path naming it (a file before its folder)."""
    rows = _layers()
    owners: dict[str, int] = {}
    for module, path in MODULES.items():
        relative = str(path.relative_to(PACKAGE))
        best: tuple[int, int] | None = None  # (specificity, row)
        for row, paths in enumerate(rows):
            for named in paths:
                if named == relative or (named.endswith("/") and relative.startswith(named)):
                    score = len(named) + (1000 if named == relative else 0)
                    if best is None or score > best[0]:
                        best = (score, row)
        if best is not None:
            owners[module] = best[1]
    return owners


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import graph's cycles (strongly connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward(graph: dict[str, set[str]], layers: dict[str, int]) -> list[str]:
    return sorted(
        f"{module} imports {other}"
        for module, targets in graph.items()
        for other in targets
        if layers[other] > layers[module]
    )


def test_every_module_has_a_layer() -> None:
    assert sorted(set(MODULES) - set(layer_of())) == []


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(GRAPH) == []


def test_no_module_imports_from_a_lower_layer() -> None:
    assert upward(GRAPH, layer_of()) == []


def test_the_checks_have_teeth() -> None:
    """The graph is read (known edges are there), and a cycle or an upward import is caught."""
    assert "streamtail.sources.base" in GRAPH["streamtail.reader"]
    assert "streamtail.clock" in GRAPH["streamtail.reader"]
    layers = layer_of()
    assert layers["streamtail.render.safe"] < layers["streamtail.render"]  # a file beats a folder
    bad = {**GRAPH, "streamtail.errors": GRAPH["streamtail.errors"] | {"streamtail.core"}}
    assert upward(bad, layers) == ["streamtail.errors imports streamtail.core"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: the house rule: each module one concept, well under this many lines
MAX_LINES = 400


def test_no_module_is_over_the_size_limit() -> None:
    over = {
        str(path.relative_to(ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert over == {}
