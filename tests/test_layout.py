"""The package layout: imports flow one way (import-linter contracts in pyproject.toml), packages re-export nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rnnbench"


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
