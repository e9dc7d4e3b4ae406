"""The plugin-facing API is declared once (``vetcore.hookspecs.PLUGIN_API``) and every plugin in the
repository keeps to it; the core's modules import each other without cycles."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from vetcore.hookspecs import API_VERSION, PLUGIN_API, PLUGIN_TEST_API

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, never executed)."""
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    return [node for node in ast.walk(tree) if id(node) not in typing_only]


def vetcore_imports(source: str, *, runtime_only: bool = False) -> set[str]:
    """The ``vetcore`` modules a piece of code imports (``from vetcore import X`` counts as ``vetcore``
    unless ``X`` is itself a module listed in the API, as in ``from vetcore import sky``)."""
    tree = ast.parse(source)
    nodes = _runtime_nodes(tree) if runtime_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "vetcore"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "vetcore":
                continue
            submodules = {f"{node.module}.{a.name}" for a in node.names}
            named = submodules & (set(PLUGIN_API) | set(PLUGIN_TEST_API))
            found |= named or {node.module}
    return found


def plugin_files() -> list[Path]:
    roots = [REPO / "plugins", REPO / "examples"]
    return sorted(p for root in roots for p in root.rglob("*.py") if ".venv" not in p.parts)


def test_the_declared_modules_exist():
    assert API_VERSION == 1
    for module in [*PLUGIN_API, *PLUGIN_TEST_API]:
        importlib.import_module(module)
    assert not set(PLUGIN_API) & set(PLUGIN_TEST_API)


def test_the_scanner_sees_what_a_plugin_imports():
    code = "import vetcore\nfrom vetcore import sky, Check\nfrom vetcore.runner import execute_check\n"
    code += "def f():\n    from vetcore.config import Config\n"
    assert vetcore_imports(code) == {"vetcore", "vetcore.sky", "vetcore.runner", "vetcore.config"}


@pytest.mark.parametrize("path", plugin_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_and_examples_import_only_the_plugin_api(path):
    allowed = set(PLUGIN_API) | (set(PLUGIN_TEST_API) if "tests" in path.parts else set())
    if "tests" not in path.parts and path.name != "conftest.py":
        allowed.discard("vetcore.testing")
    outside = vetcore_imports(path.read_text(encoding="utf-8")) - allowed
    assert not outside, (
        f"{path.relative_to(REPO)} imports {sorted(outside)}, outside vetcore.hookspecs.PLUGIN_API"
    )


def core_graph(*, runtime_only: bool) -> dict[str, set[str]]:
    """``module -> vetcore modules it imports`` for every module of ``src/vetcore``."""
    modules = {}
    for path in (SRC / "vetcore").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in _runtime_nodes(tree) if runtime_only else list(ast.walk(tree)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
                deps |= {f"{node.module}.{a.name}" for a in node.names} & set(modules) or {node.module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in modules}
        graph[name] = deps - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_in_the_core():
    assert cycles(core_graph(runtime_only=True)) == []
    full = core_graph(runtime_only=False)  # typing-only imports included
    for a, b in [("vetcore.config", "vetcore.plugins"), ("vetcore.report", "vetcore.runner"),
                 ("vetcore.model", "vetcore.sky")]:  # fmt: skip
        assert not (b in full[a] and a in full[b]), f"{a} and {b} import each other"
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
