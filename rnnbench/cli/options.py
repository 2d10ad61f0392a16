"""Options and helpers shared by every command: exit codes, the one-line failure, suite loading, writing --out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rnnbench.suite.arch import is_plugin
from rnnbench.suite.expand import load_suite
from rnnbench.suite.files import SuiteError
from rnnbench.suite.task_ref import is_task_plugin

EXIT_OK, EXIT_CASES_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_REGRESSION = 1  # compare --fail-on-regression

SuiteArg = Annotated[str, typer.Argument(help="A suite file, or the name of a built-in suite (quick, recap, …).")]
# printed after a report shown without the claims' evidence table; the command that shows it
DETAILS_HINT = "every claim's findings and numbers: {command}"

MaxCases = Annotated[int, typer.Option("--max-cases", min=1, help="Refuse suites that expand to more cases than this.")]


def stdout() -> Console:
    return Console()


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """One line on stderr, then the exit code; never a traceback."""
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def load_suite_or_fail(suite: str, max_cases: int):
    try:
        loaded = load_suite(suite, max_cases=max_cases)
    except SuiteError as err:
        raise fail(str(err)) from None
    check_plugins_or_fail(loaded[0], loaded[2])
    check_data_or_fail(loaded[0], loaded[1], loaded[2])
    return loaded


def check_data_or_fail(suite, cases, path: Path) -> list:
    """Read, split and check every file a task reads (`series`, `text`) before any case starts; each problem one line."""
    from rnnbench.catalog import TASK_SPECS

    if not any(getattr(TASK_SPECS.get(case.task), "reads_file", False) for case in cases):
        return []
    from rnnbench.tasks.tables import DataError
    from rnnbench.tasks.user_data import check_file_tasks

    try:
        return check_file_tasks(suite, cases)
    except DataError as err:
        raise fail(f"{path}: {err}") from None


def check_plugins_or_fail(suite, path: Path) -> None:
    """Import, build and dry-run each plugin, model or task, before any case starts; built-in-only suites never import torch."""
    models, tasks = (any(is_plugin(m.arch) for m in suite.models), any(is_task_plugin(t.task) for t in suite.tasks))
    if not (models or tasks):
        return
    from rnnbench.models.plugins import PluginError, check_plugins
    from rnnbench.tasks.plugins import check_task_plugins

    try:
        check_task_plugins(suite)
        check_plugins(suite)
    except PluginError as err:
        raise fail(f"{path}: {err}") from None


def write_out(out: Path, text: str) -> None:
    """Write an export to --out, creating its folder; an OS error is one line, exit 2."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise fail(f"{out}: cannot write: {err.strerror or err}") from None
