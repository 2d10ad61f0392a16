"""`rnnbench report` and `export`: show a results file, export it in a registered format, or plot it."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rnnbench.cli.options import DETAILS_HINT, fail, stdout, write_out
from rnnbench.export.registry import RESULTS_FORMATS, export_results
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results


def report(
    results: Annotated[Path, typer.Argument(help="A results file written by `rnnbench run`.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="md (recap + claims), json (the claims), csv (one row per case) or github-action-benchmark; default: tables in the terminal.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the --format export to this file instead of standard output."),
    ] = None,
    plots: Annotated[Path | None, typer.Option("--plots", help="Write PNG figures into this folder.")] = None,
    details: Annotated[
        bool, typer.Option("--details", help="Also print the claims' evidence table: every finding with its numbers.")
    ] = False,
) -> None:
    """Show a results file: the measured recap, the analyses and the recap claims' verdicts; export or plot it."""
    from rnnbench.render.report import run_report

    if fmt is not None and fmt not in RESULTS_FORMATS:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(RESULTS_FORMATS)}")
    if out is not None and fmt is None:
        raise fail(f"--out needs --format ({', '.join(RESULTS_FORMATS)})")
    try:
        doc = load_results(results)
    except ResultsError as err:
        raise fail(str(err)) from None
    console = stdout()
    if fmt is None:
        for part in run_report(doc, details=details):
            console.print(part)
        if not details:
            hint = DETAILS_HINT.format(command=f"rnnbench report {shlex.quote(str(results))} --details")
            console.print(hint, highlight=False, markup=False, soft_wrap=True)
    else:
        text = export_results(doc, fmt)
        if out is None:
            sys.stdout.write(text)
            console = Console(stderr=True)  # keep standard output a clean export
        else:
            write_out(out, text)
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


def export_command(
    results: Annotated[Path, typer.Argument(help="A results file written by `rnnbench run`.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="github-action-benchmark: the customSmallerIsBetter JSON.")
    ] = "github-action-benchmark",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Export a results file for other tools: github-action-benchmark's customSmallerIsBetter JSON."""
    if fmt not in RESULTS_FORMATS:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(RESULTS_FORMATS)}")
    try:
        text = export_results(load_results(results), fmt)
    except ResultsError as err:
        raise fail(str(err)) from None
    if out is None:
        sys.stdout.write(text)
        return
    write_out(out, text)
