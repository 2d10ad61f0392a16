"""The package layout: imports flow one way (import-linter contracts in pyproject.toml), packages re-export nothing;
test modules import helper modules, never one another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rnnbench"
TESTS = Path(__file__).resolve().parent


def test_import_contracts_are_kept(capsys):
    importlinter_cli = pytest.importorskip("importlinter.cli")
    exit_code = importlinter_cli.lint_imports(config_filename=str(PACKAGE.parent / "pyproject.toml"))
    assert exit_code == 0, capsys.readouterr().out


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_package_inits_hold_only_a_docstring(init):
    body = ast.parse(init.read_text()).body
    assert len(body) <= 2 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    assert all(isinstance(node, ast.Expr) or _is_version(node) for node in body), f"{init} re-exports or runs code"


def _is_version(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__version__"]


def test_no_module_defines_all():
    """`__all__` lists are how re-exports creep back in; every name is imported from where it is defined."""
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "__all__" in p.read_text()]
    assert offenders == []


@pytest.mark.parametrize("depth", [None, 3], ids=["modules", "subpackages"])
def test_the_package_has_no_import_cycle(depth):
    """No module imports itself through others, function-level imports included (grimp reads every import).

    At depth 3 each subpackage (e.g. rnnbench.run.executors) is one node: run/runner.py importing
    something that imports an executor, while an executor imports the runner, is a cycle too.
    """
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("rnnbench", include_external_packages=False)
    cycles = [sorted(component) for component in _strongly_connected(_Squashed(graph, depth)) if len(component) > 1]
    assert cycles == [], f"import cycles: {cycles}"


class _Squashed:
    """The import graph with every module named by its first `depth` parts (None: unchanged); self-imports dropped."""

    def __init__(self, graph, depth: int | None) -> None:
        self.imports: dict[str, set[str]] = {}
        for module in graph.modules:
            source = self._name(module, depth)
            targets = {self._name(m, depth) for m in graph.find_modules_directly_imported_by(module)}
            self.imports.setdefault(source, set()).update(targets - {source})
        self.modules = set(self.imports)

    @staticmethod
    def _name(module: str, depth: int | None) -> str:
        return module if depth is None else ".".join(module.split(".")[:depth])

    def find_modules_directly_imported_by(self, module: str) -> set[str]:
        return self.imports.get(module, set())


def _strongly_connected(graph) -> list[set[str]]:
    """Tarjan's components of the module import graph, iteratively (no recursion limit)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c", "d"}
        imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.imports[module]

    assert sorted(sorted(c) for c in _strongly_connected(Graph()) if len(c) > 1) == [["a", "b", "c"]]


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [node.module] if node.module else [alias.name for alias in node.names]
    return names


def test_no_test_module_imports_another():
    """Shared pieces live in conftest.py fixtures or helper modules (helpers, suite_texts, results_factory): a test
    module imported by another runs its module code twice and ties the two modules' tiers and names together."""
    offenders = [
        f"{path.name} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imported_modules(ast.parse(path.read_text()))
        if name.split(".")[0].startswith("test_") or name.split(".")[0] == "conftest"
    ]
    assert offenders == []
