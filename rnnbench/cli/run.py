"""`rnnbench run`, `validate` and `list`: load a suite, run it with live progress, print the report."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rnnbench.catalog import MODEL_SPECS, TASK_SPECS
from rnnbench.cli.options import (
    DETAILS_HINT,
    EXIT_CASES_FAILED,
    EXIT_OK,
    MaxCases,
    SuiteArg,
    check_data_or_fail,
    fail,
    stdout,
)
from rnnbench.cli.options import load_suite_or_fail as _load
from rnnbench.render.progress import ProgressView
from rnnbench.results.resume import check_resume_suite, is_complete
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import default_results_path, load_results
from rnnbench.run.interrupts import interrupts_raise, resume_command
from rnnbench.suite.expand import DEFAULT_MAX_CASES
from rnnbench.suite.files import BUILTIN_SUITES


def validate(suite: SuiteArg = "quick", max_cases: MaxCases = DEFAULT_MAX_CASES) -> None:
    """Check a suite file and list the cases it expands to."""
    parsed, cases, path = _load(suite, max_cases)
    console = stdout()
    console.print(
        f"{path}: suite [bold]{parsed.name}[/], {len(cases)} case{'s' if len(cases) != 1 else ''}", highlight=False
    )
    for case in cases:
        console.print(f"  {case.id}", highlight=False)
    for checked in check_data_or_fail(parsed, cases, path):  # read again from the cache: what the data holds
        console.print(
            f"{checked.where} {checked.task.name} at seq_len {checked.seq_len}:", highlight=False, markup=False
        )
        for line in checked.task.summary():
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


def list_components() -> None:
    """List the registered models and tasks."""
    from rich.table import Table

    console = stdout()
    models = Table(title="models", title_justify="left")
    for column in ("name", "gates", "bidirectional", "description"):
        models.add_column(column)
    for name, spec in MODEL_SPECS.items():
        models.add_row(name, str(spec.gates), "yes" if spec.bidirectional else "no", spec.description)
    tasks = Table(title="tasks", title_justify="left")
    for column in ("name", "output", "causal", "description"):
        tasks.add_column(column)
    for name, spec in TASK_SPECS.items():
        tasks.add_row(name, spec.output_kind, "yes" if spec.causal else "no", spec.description)
    console.print(models)
    console.print(tasks)


def _interrupted_exit(interrupt: KeyboardInterrupt, out_path: Path | None, command: str | None) -> typer.Exit:
    """Say what was kept and how to continue; the exit code tells which signal stopped the run."""
    code = getattr(interrupt, "exit_code", 128 + signal.SIGINT)
    name = str(interrupt) or "SIGINT"
    err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
    try:
        doc = load_results(out_path) if out_path is not None else None
    except ResultsError:
        doc = None
    if doc is None:
        err.print(f"interrupted by {name} before any result was saved")
        return typer.Exit(code)
    finished = [c for c in doc["cases"] if c["status"] != "interrupted"]
    if doc.get("status") == "complete":
        err.print(f"interrupted by {name}; the results are complete: {out_path}")
        return typer.Exit(code)
    err.print(f"interrupted by {name}: {len(finished)} finished case(s) saved in {out_path}")
    err.print(f"resume with: {command}")
    return typer.Exit(code)


EXECUTOR_NAMES = ("serial", "local", "ray")


def _plan(executor: str | None, workers: int | None, ray_address: str | None):
    """--executor/--workers/--ray-address as a Plan: --workers alone means local, --ray-address alone means ray."""
    from rnnbench.run.executors.base import Plan

    name = executor or ("ray" if ray_address else "local" if workers else "serial")
    if name not in EXECUTOR_NAMES:
        raise fail(f"--executor {name}: not one of {', '.join(EXECUTOR_NAMES)}")
    if ray_address is not None and name != "ray":
        raise fail(f"--ray-address: only with --executor ray, not {name}")
    if workers is not None and workers < 1:
        raise fail(f"--workers {workers}: must be at least 1")
    if name == "local" and workers is None:
        raise fail("--executor local: say how many workers with --workers N")
    if name == "ray" and workers is not None:
        raise fail("--workers: Ray places tasks by the cluster's resources; leave --workers out with --executor ray")
    return Plan(name, workers or 1, None, address=ray_address)


def _plan_words(plan) -> str:
    """The executor options for the resume command (any executor may resume; the same one is the natural choice)."""
    if plan.executor == "local":
        return f" --workers {plan.workers}"
    if plan.executor == "ray":
        return " --executor ray" + (f" --ray-address {shlex.quote(plan.address)}" if plan.address else "")
    return ""


def run(
    suite: SuiteArg = "quick",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Results file (default results/<suite>-<UTC time>.json).")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue an interrupted results file, skipping finished cases.")
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="Override the suite's device: auto, cpu, cuda, cuda:N.")
    ] = None,
    max_cases: MaxCases = DEFAULT_MAX_CASES,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress display.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print the claims' evidence table: every finding.")
    ] = False,
    executor: Annotated[
        str | None, typer.Option("--executor", help="serial (default), local (worker processes) or ray.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes, each on its own cores or GPU.")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Join this Ray cluster (or auto); default: a local Ray on localhost."),
    ] = None,
) -> None:
    """Run a suite: time and train every case, save results after each, print the measured recap.

    Ctrl-C or SIGTERM saves every finished case, prints the command that resumes, and exits 130 / 143.
    """
    out_path: Path | None = None
    command: str | None = None
    with interrupts_raise():
        try:
            plan = _plan(executor, workers, ray_address)
            parsed, cases, path = _load(suite, max_cases)
            if device is not None:
                parsed, cases = _with_device(parsed, cases, device)
            resume_doc = None
            if resume is not None:
                resume_doc = _resume_doc(resume, out, parsed, cases)
                out = resume
            out_path = out or default_results_path(parsed.name)
            command = _resume_command(suite, path, out_path, device, max_cases, plan)
            console = stdout()
            console.print(
                f"suite [bold]{escape(parsed.name)}[/] ({escape(str(path))}): {len(cases)} cases → {escape(str(out_path))}",
                highlight=False,
            )
            doc = _run_suite(parsed, cases, out_path, path, resume_doc, plan, console if not quiet else None)
            _print_report(console, doc, out_path, verbose)
        except KeyboardInterrupt as interrupt:
            raise _interrupted_exit(interrupt, out_path, command) from None
    failed = [c for c in doc["cases"] if c["status"] == "failed"]
    console.print(f"results: {out_path}", highlight=False, markup=False, soft_wrap=True)
    if failed:
        raise fail(f"{len(failed)} case(s) failed; see {out_path}", EXIT_CASES_FAILED)


def _resume_command(suite: str, path, out_path: Path, device: str | None, max_cases: int, plan) -> str:
    """The command that continues this run if it is interrupted (the same executor options)."""
    cap = None if max_cases == DEFAULT_MAX_CASES else max_cases
    return resume_command(suite if suite in BUILTIN_SUITES else str(path), out_path, device, cap) + _plan_words(plan)


def _with_device(parsed, cases, device: str):
    """The suite and its cases on `--device` instead of the suite's own device."""
    try:
        parsed = parsed.model_validate({**parsed.model_dump(), "device": device})
    except ValueError as err:
        raise fail(f"--device: {str(err).splitlines()[-1].strip()}") from None
    return parsed, [c.model_copy(update={"device": device}) for c in cases]


def _resume_doc(resume: Path, out: Path | None, parsed, cases) -> dict:
    """The interrupted results file to continue, checked against the suite; exits 0 when it is already complete."""
    if out is not None and out.resolve() != resume.resolve():
        raise fail("--out and --resume name different files; --resume continues into its own file")
    case_ids = [c.id for c in cases]
    try:
        resume_doc = load_results(resume)
        check_resume_suite(resume, resume_doc, parsed.model_dump(mode="json"), case_ids)
    except ResultsError as err:
        raise fail(str(err)) from None
    if is_complete(resume_doc, case_ids):
        stdout().print(
            f"{resume}: already complete, all {len(case_ids)} cases finished; nothing to resume",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_OK)
    return resume_doc


def _run_suite(parsed, cases, out_path: Path, path, resume_doc, plan, console: Console | None) -> dict:
    """run_suite with this process's clock (RNNBENCH_TEST_SLOWDOWN's padding, if set) and live progress
    unless `console` is None; its refusals as one-line failures."""
    from rnnbench.measure.env import DeviceError
    from rnnbench.measure.timer import using_clock
    from rnnbench.run.clock import clock_from_env
    from rnnbench.run.driver import run_suite
    from rnnbench.run.executors.base import ExecutorError

    try:
        clock = clock_from_env()
    except ValueError as err:
        raise fail(f"{path}: {err}") from None
    try:
        with using_clock(clock):
            if console is None:
                return run_suite(parsed, cases, out_path, suite_path=str(path), resume_doc=resume_doc, plan=plan)
            with ProgressView(console) as view:
                return run_suite(
                    parsed, cases, out_path, suite_path=str(path), resume_doc=resume_doc, on_event=view, plan=plan
                )
    except ExecutorError as err:
        raise fail(str(err)) from None
    except DeviceError as err:
        raise fail(f"{path}: {err}") from None
    except ResultsError as err:  # resuming on another device, dtype or torch
        raise fail(str(err)) from None


def _print_report(console: Console, doc: dict, out_path: Path, verbose: bool) -> None:
    from rnnbench.render.report import run_report

    for part in run_report(doc, details=verbose):
        console.print(part)
    if not verbose:
        hint = DETAILS_HINT.format(command=f"rnnbench report {shlex.quote(str(out_path))} --details")
        console.print(hint, highlight=False, markup=False, soft_wrap=True)
