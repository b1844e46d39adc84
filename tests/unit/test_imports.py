"""The package's import graph: no cycles, and only the engines import the ML libraries (and
only the detection module the detection library)."""

import ast
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGES = ("deployments", "graph")
ML_LIBRARIES = ("torch", "transformers", "ctranslate2")
ENGINES = "deployments.engines"
# Lingua loads tens of megabytes of models a language: one module owns it, and that module
# stays a plain library (no Serve, no web framework) so any process can build a detector.
DETECTION = "deployments.text.detection"
DETECTION_LIBRARY = "lingua"


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, absolute names."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = modules()
GRAPH = {name: imports_of(path, name) & set(MODULES) - {name} for name, path in MODULES.items()}


def test_the_packages_are_found():
    assert {"deployments.ingress", "deployments.engines.torch_engine", "graph.app"} <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_engines_import_torch_transformers_or_ctranslate2(name):
    imported = {module.split(".")[0] for module in imports_of(MODULES[name], name) if module} & set(
        ML_LIBRARIES
    )
    if name == ENGINES or name.startswith(ENGINES + "."):
        return
    assert not imported, f"{name} imports {sorted(imported)}; only {ENGINES} may"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_detection_module_imports_the_detection_library(name):
    imported = {module.split(".")[0] for module in imports_of(MODULES[name], name) if module}
    if name != DETECTION:
        assert DETECTION_LIBRARY not in imported, f"{name} imports {DETECTION_LIBRARY}"


def test_the_detection_module_is_plain_python():
    imported = {module.split(".")[0] for module in imports_of(MODULES[DETECTION], DETECTION)}
    assert DETECTION_LIBRARY in imported
    assert not imported & {"ray", "fastapi", "starlette", "pydantic", *ML_LIBRARIES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in module -> imported modules, depth first, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def test_there_is_no_import_cycle():
    # Imports inside functions count too: they hide a cycle from Python, not from a reader.
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_can_fail(tmp_path):
    (tmp_path / "a.py").write_text("from pkg import b\nimport torch\n")
    (tmp_path / "b.py").write_text("def f():\n    from . import a\n")
    graph = {"pkg.a": imports_of(tmp_path / "a.py", "pkg.a") & {"pkg.b"}}
    graph["pkg.b"] = imports_of(tmp_path / "b.py", "pkg.b") & {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    assert "torch" in imports_of(tmp_path / "a.py", "pkg.a")
