"""The package's layers: imports point down, and there is no import circle.

    findings, knowledge            plain data and facts about PyTorch
    engine, settings               parse, facts, flow, events
    fixing, notebook               text edits; notebooks as one program
    rules                          read events, build Findings with candidate fixes
    analysis                       the driver and the front door (Session)
    config, files                  settings from pyproject.toml; finding and reading files
    cli, lsp, runtime              adapters

A module may import its own layer and those below it, type-only imports included; the
adapters reach the engine and the rules only through ``torchmode.analysis``. Imports written
inside functions count too: a lazy import is fine for start-up time, not to hide a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "torchmode"

LAYERS: list[tuple[str, ...]] = [
    ("findings", "knowledge"),
    ("engine", "settings"),
    ("fixing", "notebook"),
    ("rules",),
    ("analysis",),
    ("config", "files"),
    ("cli", "lsp", "runtime", "__main__", "__init__"),
]
ADAPTERS = ("cli", "lsp")
BEHIND_THE_FRONT_DOOR = ("engine", "rules", "fixing")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _type_checking_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported torchmode module, line, only for type checking)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and _type_checking_block(node):
            typing_only.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.append(sub if sub in MODULES else node.module)
        for name in names:
            if name.split(".")[0] == "torchmode":
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                yield name, node.lineno, id(node) in typing_only


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(module: str) -> int:
    area = _area(module)
    for rank, layer in enumerate(LAYERS):
        if area in layer:
            return rank
    raise AssertionError(f"{module} belongs to no layer: add its area to LAYERS")


def test_every_module_has_a_layer():
    for module in MODULES:
        _rank(module)


def test_imports_point_down():
    wrong = []
    for module, path in MODULES.items():
        for imported, line, _ in _imports(path):
            if _rank(imported) > _rank(module):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert not wrong, "imports that point up:\n" + "\n".join(wrong)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapters_go_through_the_front_door(adapter):
    wrong = []
    for module, path in MODULES.items():
        if _area(module) != adapter:
            continue
        for imported, line, _ in _imports(path):
            if _area(imported) in BEHIND_THE_FRONT_DOOR:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert not wrong, "adapters reaching past torchmode.analysis:\n" + "\n".join(wrong)


def _circle() -> list[str] | None:
    graph = {
        module: sorted({i for i, _, typing_only in _imports(path) if not typing_only} - {module})
        for module, path in MODULES.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in graph.get(module, ()):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)) is not None:
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_no_import_circle():
    circle = _circle()
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_check_sees_a_circle(monkeypatch):
    """The walk above would pass on any package if it never found an edge."""
    original = _imports

    def with_a_circle(path: Path) -> Iterator[tuple[str, int, bool]]:
        yield from original(path)
        if path == MODULES["torchmode.findings"]:
            yield "torchmode.analysis.driver", 1, False

    monkeypatch.setitem(globals(), "_imports", with_a_circle)
    assert _circle() is not None
