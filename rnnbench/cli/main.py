"""The command line: each command parses, loads, calls, renders and picks the exit code."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from rnnbench import __version__
from rnnbench.catalog import MODEL_SPECS, TASK_SPECS
from rnnbench.render.progress import ProgressView
from rnnbench.results.resume import check_resume_suite, is_complete
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import default_results_path, load_results
from rnnbench.run.interrupts import interrupts_raise, resume_command
from rnnbench.suite.expand import DEFAULT_MAX_CASES, load_suite
from rnnbench.suite.files import BUILTIN_SUITES, SuiteError

app = typer.Typer(
    help="Benchmark LSTM, GRU, Bi-LSTM and tanh RNNs: timings with sound statistics, accuracy on long-dependency tasks, and the recap claims checked on your machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_CASES_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_REGRESSION = 1  # compare --fail-on-regression


def stdout() -> Console:
    return Console()


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """One line on stderr, then the exit code; never a traceback."""
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
    console.print(
        f"{path}: suite [bold]{parsed.name}[/], {len(cases)} case{'s' if len(cases) != 1 else ''}", highlight=False
    )
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


@app.command()
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
) -> None:
    """Run a suite: time and train every case, save results after each, print the measured recap.

    Ctrl-C or SIGTERM saves every finished case, prints the command that resumes, and exits 130 / 143.
    """
    out_path: Path | None = None
    command: str | None = None
    with interrupts_raise():
        try:
            from rnnbench.measure.env import DeviceError
            from rnnbench.render.report import run_report
            from rnnbench.run.runner import run_suite

            parsed, cases, path = _load(suite, max_cases)
            if device is not None:
                try:
                    parsed = parsed.model_validate({**parsed.model_dump(), "device": device})
                except ValueError as err:
                    raise fail(f"--device: {str(err).splitlines()[-1].strip()}") from None
                cases = [c.model_copy(update={"device": device}) for c in cases]
            resume_doc = None
            if resume is not None:
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
                out = resume
            out_path = out or default_results_path(parsed.name)
            command = resume_command(suite if suite in BUILTIN_SUITES else str(path), out_path, device, max_cases)
            console = stdout()
            console.print(
                f"suite [bold]{escape(parsed.name)}[/] ({escape(str(path))}): {len(cases)} cases → {escape(str(out_path))}",
                highlight=False,
            )
            try:
                if quiet:
                    doc = run_suite(parsed, cases, out_path, suite_path=str(path), resume_doc=resume_doc)
                else:
                    with ProgressView(console) as view:
                        doc = run_suite(
                            parsed, cases, out_path, suite_path=str(path), resume_doc=resume_doc, on_event=view
                        )
            except DeviceError as err:
                raise fail(f"{path}: {err}") from None
            except ResultsError as err:  # resuming on another device, dtype or torch
                raise fail(str(err)) from None
            for part in run_report(doc):
                console.print(part)
        except KeyboardInterrupt as interrupt:
            raise _interrupted_exit(interrupt, out_path, command) from None
    failed = [c for c in doc["cases"] if c["status"] == "failed"]
    console.print(f"results: {out_path}", highlight=False, markup=False, soft_wrap=True)
    if failed:
        raise fail(f"{len(failed)} case(s) failed; see {out_path}", EXIT_CASES_FAILED)


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="A results file written by `rnnbench run`.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="md (recap + claims), json (the claims) or csv (one row per case); default: tables in the terminal.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the --format export to this file instead of standard output."),
    ] = None,
    plots: Annotated[Path | None, typer.Option("--plots", help="Write PNG figures into this folder.")] = None,
) -> None:
    """Show a results file: the measured recap, the analyses and the recap claims' verdicts; export or plot it."""
    from rnnbench.export.report import FORMATS, export
    from rnnbench.render.report import run_report

    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if out is not None and fmt is None:
        raise fail("--out needs --format (md, json or csv)")
    try:
        doc = load_results(results)
    except ResultsError as err:
        raise fail(str(err)) from None
    console = stdout()
    if fmt is None:
        for part in run_report(doc):
            console.print(part)
    else:
        text = export(doc, fmt)
        if out is None:
            sys.stdout.write(text)
            console = Console(stderr=True)  # keep standard output a clean export
        else:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
            except OSError as err:
                raise fail(f"{out}: cannot write: {err.strerror or err}") from None
            console.print(f"{fmt} report: {out}", highlight=False)
    if plots is not None:
        from rnnbench.export.plots import write_plots

        try:
            outcomes = write_plots(doc, plots)
        except OSError as err:
            raise fail(f"{plots}: cannot write plots: {err.strerror or err}") from None
        for outcome in outcomes:
            if outcome.path is None:
                console.print(f"plot {outcome.name}: {outcome.note}", highlight=False)
            else:
                console.print(f"plot {outcome.name}: {outcome.path}", highlight=False)


COMPARE_FORMATS = ("table", "md", "json")


@app.command()
def compare(
    base: Annotated[
        Path | None,
        typer.Argument(help="The baseline results file (default: the second newest under --results-dir)."),
    ] = None,
    new: Annotated[
        Path | None, typer.Argument(help="The results file to judge (default: the newest under --results-dir).")
    ] = None,
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit 1 when a metric regressed (a CI gate).")
    ] = False,
    threshold: Annotated[
        str,
        typer.Option(
            "--threshold",
            help="Minimum effect that counts, e.g. 5% or 0.05; the suite's thresholds: override it per metric.",
        ),
    ] = "5%",
    alpha: Annotated[
        float, typer.Option("--alpha", min=1e-9, max=0.5, help="Significance level of the Mann-Whitney tests.")
    ] = 0.01,
    normalize: Annotated[
        bool,
        typer.Option(
            "--normalize",
            help="Show ratios divided by the change of the runs' reference matmul time (different machines); the gate checks both views.",
        ),
    ] = False,
    allow_env_mismatch: Annotated[
        bool, typer.Option("--allow-env-mismatch", help="Compare across device, torch or dtype anyway.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (terminal), md (Markdown) or json.")] = "table",
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Also append the Markdown report to this file, e.g. $GITHUB_STEP_SUMMARY."),
    ] = None,
    results_dir: Annotated[
        Path,
        typer.Option("--results-dir", help="Where to look for the two newest results when BASE and NEW are not given."),
    ] = Path("results"),
) -> None:
    """Compare two results of one suite: timing ratios with CIs and p-values, accuracy, and a regression gate."""
    import json

    from rnnbench.compare.pairing import (
        CompareError,
        CompareOptions,
        latest_pair,
        parse_threshold,
    )
    from rnnbench.compare.pairing import compare as compare_docs
    from rnnbench.export.comparison import comparison_json
    from rnnbench.render.compare import comparison_markdown, comparison_renderable

    if fmt not in COMPARE_FORMATS:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(COMPARE_FORMATS)}")
    if (base is None) != (new is None):
        raise fail("give both BASE and NEW, or neither (then the two newest results under --results-dir)")
    try:
        options = CompareOptions(alpha, parse_threshold(threshold), normalize, allow_env_mismatch)
    except ValueError as err:
        raise fail(f"--threshold: {err}") from None
    try:
        if base is None or new is None:
            base, new = latest_pair(results_dir)
        base_doc, new_doc = load_results(base), load_results(new)
        comparison = compare_docs(base_doc, new_doc, options, str(base), str(new))
    except ResultsError as err:
        raise fail(str(err)) from None
    except CompareError as err:
        raise fail(f"{base} vs {new}: {err}" if new is not None else str(err)) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(comparison_json(comparison), indent=1, sort_keys=True) + "\n")
    elif fmt == "md":
        sys.stdout.write(comparison_markdown(comparison))
    else:
        stdout().print(comparison_renderable(comparison))
    if summary is not None:
        try:
            with summary.open("a", encoding="utf-8") as handle:
                handle.write(comparison_markdown(comparison))
        except OSError as err:
            raise fail(f"{summary}: cannot write: {err.strerror or err}") from None
    if fail_on_regression and comparison.regressions:
        raise typer.Exit(EXIT_REGRESSION)


@app.command("export")
def export_results(
    results: Annotated[Path, typer.Argument(help="A results file written by `rnnbench run`.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="github-action-benchmark: the customSmallerIsBetter JSON.")
    ] = "github-action-benchmark",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Export a results file for other tools: github-action-benchmark's customSmallerIsBetter JSON."""
    import json

    from rnnbench.export.comparison import EXPORT_FORMATS, github_action_benchmark

    if fmt not in EXPORT_FORMATS:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    try:
        text = json.dumps(github_action_benchmark(load_results(results)), indent=1, ensure_ascii=False) + "\n"
    except ResultsError as err:
        raise fail(str(err)) from None
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise fail(f"{out}: cannot write: {err.strerror or err}") from None


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rnnbench")


if __name__ == "__main__":
    sys.exit(main())
