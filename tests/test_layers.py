"""The host is a stack: every module imports only from the layers below it, function-level imports included.

The layers are the architecture (docs/architecture.md shows them); a new module
must be placed in one. An import that goes up is allowed only as a
documented convenience: inside a function, marked ``# convenience: why`` on
its line, where calling up is the point of the method (``effect(audio)``
runs a chain of one). Without those few marked lines the graph has no circle.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = ROOT / "vcfx"

LAYERS = [
    {"errors"},
    {"params", "files", "parallel", "compiled", "hookspecs", "progress"},
    {"audio"},
    {"effect", "synthetic"},
    {"slicer", "domains"},
    {"plugins"},
    {"spec"},
    {"chain"},
    {"presets"},
    {"slicing", "streaming", "batching", "live"},
    {"applying", "plotting", "liveio"},
    {"demo", "testing", "audition"},
    {"serving"},
    {"cli"},
]
"""Bottom first. ``__init__`` is the package's face: it may import any module, and no module imports it."""


@dataclass(frozen=True)
class Import:
    module: str  # the importing host module
    target: str  # the imported host module, or the top-level name of anything else
    line: int
    in_function: bool
    convenience: bool


def _host_modules() -> dict[str, Path]:
    return {p.stem: p for p in HOST.glob("*.py")}


def _imports(name: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets: list[str] = []
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    targets = [child.module.split(".")[0]] if child.module else [a.name for a in child.names]
                elif child.module == "vcfx":
                    targets = ["__init__"]
                elif child.module and child.module.startswith("vcfx."):
                    targets = [child.module.split(".")[1]]
                elif child.module:
                    targets = [child.module.split(".")[0]]
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    parts = alias.name.split(".")
                    targets.append(parts[1] if parts[0] == "vcfx" and len(parts) > 1 else
                                   "__init__" if parts[0] == "vcfx" else parts[0])
            marked = "# convenience:" in lines[child.lineno - 1] if targets else False
            found.extend(Import(name, t, child.lineno, in_function, marked) for t in targets)
            visit(child, nested)

    visit(tree, False)
    return found


def _all_imports() -> list[Import]:
    return [imp for name, path in sorted(_host_modules().items()) for imp in _imports(name, path)]


def _layer_of() -> dict[str, int]:
    return {module: i for i, layer in enumerate(LAYERS) for module in layer}


def _plugin_packages() -> set[str]:
    names = {ep.value.split(":")[0].split(".")[0] for ep in md.entry_points(group="vcfx")}
    return names | {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file()}


def test_every_host_module_has_a_layer():
    modules = set(_host_modules()) - {"__init__"}
    layer = _layer_of()
    assert modules - set(layer) == set(), "place these modules in a layer of LAYERS"
    assert set(layer) - modules == set(), "LAYERS names modules that do not exist"


def test_every_import_goes_down_the_stack():
    layer = _layer_of()
    wrong = []
    for imp in _all_imports():
        if imp.module == "__init__" or (imp.target not in layer and imp.target != "__init__"):
            continue
        if imp.target == "__init__":
            wrong.append(f"{imp.module}.py:{imp.line} imports the vcfx package itself")
        elif imp.convenience:
            if not imp.in_function or layer[imp.target] <= layer[imp.module]:
                wrong.append(f"{imp.module}.py:{imp.line} is marked a convenience but is not an upward "
                             f"import inside a function")
        elif layer[imp.target] >= layer[imp.module]:
            how = "inside a function" if imp.in_function else "at module level"
            wrong.append(f"{imp.module}.py:{imp.line} imports {imp.target} {how}, which is not below it")
    assert wrong == []


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle_counting_function_level_imports():
    host = set(_host_modules())
    edges: dict[str, set[str]] = {}
    for imp in _all_imports():
        if imp.target in host and imp.target != imp.module and not imp.convenience:
            edges.setdefault(imp.module, set()).add(imp.target)
    assert _cycle(edges) is None


def test_the_circle_finder_finds_circles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_conveniences_are_few_and_documented():
    marked = [imp for imp in _all_imports() if imp.convenience]
    assert {(imp.module, imp.target) for imp in marked} <= {("effect", "chain"), ("effect", "plugins")}
    for imp in marked:
        line = _host_modules()[imp.module].read_text().splitlines()[imp.line - 1]
        assert len(line.split("# convenience:")[1].strip()) > 10, line


def test_the_host_imports_no_plugin_package():
    plugins = _plugin_packages()
    offending = [f"{imp.module}.py:{imp.line} imports {imp.target}" for imp in _all_imports()
                 if imp.target in plugins or imp.target.startswith("vcfx_")]
    assert offending == []


def test_function_level_imports_of_host_modules_say_why():
    """A function-level import is a convenience, or it defers an expensive library; none dodges a circle."""
    host = set(_host_modules())
    silent = []
    for imp in _all_imports():
        if imp.in_function and imp.target in host and not imp.convenience:
            line = _host_modules()[imp.module].read_text().splitlines()[imp.line - 1]
            if "#" not in line:
                silent.append(f"{imp.module}.py:{imp.line}: {line.strip()}")
    assert silent == []


def test_the_architecture_page_shows_these_layers():
    import re

    page = (ROOT / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", page, flags=re.M)
    documented = {int(n): set(re.findall(r"`(\w+)`", names)) for n, names in rows}
    assert documented == dict(enumerate(LAYERS))
