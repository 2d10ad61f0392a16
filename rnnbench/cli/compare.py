"""`rnnbench compare`: two results files of one suite, per-metric ratios and verdicts, and the regression gate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rnnbench.cli.options import EXIT_REGRESSION, fail, stdout
from rnnbench.export.registry import COMPARISON_FORMATS, export_comparison
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results

if TYPE_CHECKING:
    from rnnbench.compare.comparison import Comparison

TERMINAL_FORMAT = "table"


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
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table (terminal), md (Markdown) or json.")
    ] = TERMINAL_FORMAT,
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
    from rnnbench.compare.comparison import CompareOptions, parse_threshold

    check_format(fmt)
    if (base is None) != (new is None):
        raise fail("give both BASE and NEW, or neither (then the two newest results under --results-dir)")
    try:
        options = CompareOptions(alpha, parse_threshold(threshold), normalize, allow_env_mismatch)
    except ValueError as err:
        raise fail(f"--threshold: {err}") from None
    show_comparison(_compare_files(base, new, results_dir, options), fmt, summary, fail_on_regression)


def _compare_files(base: Path | None, new: Path | None, results_dir: Path, options) -> Comparison:
    """BASE against NEW (or the two newest results under `results_dir`); unreadable or unlike runs fail in one line."""
    from rnnbench.compare.comparison import CompareError
    from rnnbench.compare.pairing import compare as compare_docs
    from rnnbench.compare.pairing import latest_pair

    try:
        if base is None or new is None:
            base, new = latest_pair(results_dir)
        base_doc, new_doc = load_results(base), load_results(new)
        return compare_docs(base_doc, new_doc, options, str(base), str(new))
    except ResultsError as err:
        raise fail(str(err)) from None
    except CompareError as err:
        raise fail(f"{base} vs {new}: {err}" if new is not None else str(err)) from None


def check_format(fmt: str) -> None:
    """--format must be the terminal table or one of the comparison formats."""
    choices = (TERMINAL_FORMAT, *COMPARISON_FORMATS)
    if fmt not in choices:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(choices)}")


def show_comparison(comparison: Comparison, fmt: str, summary: Path | None, fail_on_regression: bool) -> None:
    """Print a comparison (terminal table or a registered format), append its Markdown to --summary, gate."""
    from rnnbench.render.compare import comparison_renderable

    if fmt == TERMINAL_FORMAT:
        stdout().print(comparison_renderable(comparison))
    else:
        sys.stdout.write(export_comparison(comparison, fmt))
    if summary is not None:
        try:
            with summary.open("a", encoding="utf-8") as handle:
                handle.write(export_comparison(comparison, "md"))
        except OSError as err:
            raise fail(f"{summary}: cannot write: {err.strerror or err}") from None
    if fail_on_regression and comparison.regressions:
        raise typer.Exit(EXIT_REGRESSION)
