"""The command line: each command parses, loads, calls, renders and picks the exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rnnbench import __version__
from rnnbench.catalog import MODEL_SPECS, TASK_SPECS
from rnnbench.results import ResultsError, default_results_path, load_results
from rnnbench.suite import DEFAULT_MAX_CASES, SuiteError, load_suite

app = typer.Typer(
    help="Benchmark LSTM, GRU, Bi-LSTM and tanh RNNs: timings with sound statistics, accuracy on long-dependency tasks, and the recap claims checked on your machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_CASES_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def stdout() -> Console:
    return Console()


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """One line on stderr, then the exit code; never a traceback."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        print(f"rnnbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


SuiteArg = Annotated[str, typer.Argument(help="A suite file, or the name of a built-in suite (quick, recap, …).")]
MaxCases = Annotated[int, typer.Option("--max-cases", min=1, help="Refuse suites that expand to more cases than this.")]


def _load(suite: str, max_cases: int):
    try:
        return load_suite(suite, max_cases=max_cases)
    except SuiteError as err:
        raise fail(str(err)) from None


@app.command()
def validate(suite: SuiteArg = "quick", max_cases: MaxCases = DEFAULT_MAX_CASES) -> None:
    """Check a suite file and list the cases it expands to."""
    parsed, cases, path = _load(suite, max_cases)
    console = stdout()
    console.print(f"{path}: suite [bold]{parsed.name}[/], {len(cases)} case{'s' if len(cases) != 1 else ''}", highlight=False)
    for case in cases:
        console.print(f"  {case.id}", highlight=False)


@app.command("list")
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


class ProgressView:
    """Turns runner events into a live progress display: case i/N, its id, phase, step, loss, elapsed."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.fields[case]}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.bar = None
        self.case_id = ""

    def __enter__(self) -> ProgressView:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "run_start":
            done = event["n_cases"] - event["n_todo"]
            self.bar = self.progress.add_task("run", total=event["n_cases"], completed=done, case="starting", detail="")
        elif self.bar is None:
            return
        elif kind == "case_start":
            self.case_id = event["id"]
            self.progress.update(self.bar, case=f"{event['index'] + 1}/{event['n_cases']} {self.case_id}", detail="")
        elif kind == "phase":
            self.progress.update(self.bar, detail=event["phase"])
        elif kind == "progress":
            self.progress.update(
                self.bar,
                detail=f"step {event['step']}/{event['max_steps']} loss {event['loss']:.4g} {event['elapsed_s']:.1f}s",
            )
        elif kind == "case_end":
            record = event["record"]
            self.progress.advance(self.bar)
            if record["status"] != "ok":
                self.progress.console.print(
                    f"[yellow]{record['id']}: {record['status']}[/] — {record.get('error') or ''}", highlight=False
                )


@app.command()
def run(
    suite: SuiteArg = "quick",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Results file (default results/<suite>-<UTC time>.json).")] = None,
    resume: Annotated[Optional[Path], typer.Option("--resume", help="Continue an interrupted results file, skipping finished cases.")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="Override the suite's device: auto, cpu, cuda, cuda:N.")] = None,
    max_cases: MaxCases = DEFAULT_MAX_CASES,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress display.")] = False,
) -> None:
    """Run a suite: time and train every case, save results after each, print the measured recap."""
    from rnnbench.env import DeviceError
    from rnnbench.report import run_report
    from rnnbench.runner import run_suite

    parsed, cases, path = _load(suite, max_cases)
    if device is not None:
        try:
            parsed = parsed.model_validate({**parsed.model_dump(), "device": device})
        except ValueError as err:
            raise fail(f"--device: {str(err).splitlines()[-1].strip()}") from None
        cases = [c.model_copy(update={"device": device}) for c in cases]
    resume_doc = None
    if resume is not None:
        try:
            resume_doc = load_results(resume)
        except ResultsError as err:
            raise fail(str(err)) from None
        if resume_doc["suite"].get("name") != parsed.name:
            raise fail(f"{resume}: holds suite {resume_doc['suite'].get('name')!r}, not {parsed.name!r}")
        out = resume
    out_path = out or default_results_path(parsed.name)
    console = stdout()
    console.print(f"suite [bold]{parsed.name}[/] ({path}): {len(cases)} cases → {out_path}", highlight=False)
    try:
        if quiet:
            doc = run_suite(parsed, cases, out_path, suite_path=str(path), resume_doc=resume_doc)
        else:
            with ProgressView(console) as view:
                doc = run_suite(parsed, cases, out_path, suite_path=str(path), resume_doc=resume_doc, on_event=view)
    except DeviceError as err:
        raise fail(f"{path}: {err}") from None
    for part in run_report(doc):
        console.print(part)
    failed = [c for c in doc["cases"] if c["status"] == "failed"]
    console.print(f"results: {out_path}", highlight=False)
    if failed:
        raise fail(f"{len(failed)} case(s) failed; see {out_path}", EXIT_CASES_FAILED)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rnnbench")


if __name__ == "__main__":
    sys.exit(main())
