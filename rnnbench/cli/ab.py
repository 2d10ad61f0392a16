"""`rnnbench ab SUITE`: paired A/B timing of one suite between two environments (python, path, env per side), and their outputs."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnbench.cli.compare import TERMINAL_FORMAT, check_format, show_comparison
from rnnbench.cli.options import SuiteArg, check_data_or_fail, fail
from rnnbench.compare.ab import AbOptions

DEFAULTS = AbOptions()  # the one set of ab defaults: the options below show them
EnvList = Annotated[list[str] | None, typer.Option(help="K=V for that side's environment; repeatable.")]


def _env(values: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"{flag}: {item!r} is not K=V")
        out[key] = value
    return out


def _tolerance(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise fail(f"{flag}: {text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise fail(f"{flag}: {text!r} must be a non-negative number")
    return value


def ab(
    suite: SuiteArg,
    base_python: Annotated[str, typer.Option(help="The base side's interpreter.")] = sys.executable,
    new_python: Annotated[str, typer.Option(help="The new side's interpreter.")] = sys.executable,
    base_path: Annotated[Path | None, typer.Option(help="Prepended to the base side's PYTHONPATH.")] = None,
    new_path: Annotated[Path | None, typer.Option(help="Prepended to the new side's PYTHONPATH.")] = None,
    base_env: EnvList = None,
    new_env: EnvList = None,
    pairs: Annotated[int, typer.Option(min=1, help="Fresh worker pairs (the unit of the interval).")] = DEFAULTS.pairs,
    seconds: Annotated[float, typer.Option(min=0.1, help="Timing budget over all pairs, seconds.")] = DEFAULTS.seconds,
    threshold: Annotated[
        str, typer.Option(help="Minimum effect that counts, e.g. 5% or 0.05.")
    ] = f"{DEFAULTS.threshold:.0%}",
    alpha: Annotated[
        float, typer.Option(min=1e-9, max=0.5, help="Significance level (CIs at 1 - alpha), over worker pairs.")
    ] = DEFAULTS.alpha,
    atol: Annotated[
        str,
        typer.Option(
            help="Outputs check: both sides run the base's weights on its inputs; outputs and loss agree when "
            "|NEW - BASE| <= atol + rtol * |BASE| per value. Default about 8 float32 eps, for outputs near zero."
        ),
    ] = f"{DEFAULTS.atol:g}",
    rtol: Annotated[
        str,
        typer.Option(
            help="Outputs check: relative tolerance. Default about 84 float32 eps: rounding measured 19x inside, "
            "a 0.1% change at least 4.5x outside (docs/ci-gate.md)."
        ),
    ] = f"{DEFAULTS.rtol:g}",
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit 1 on a regression: a slower timing or outputs changed.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, md or json.")] = TERMINAL_FORMAT,
    summary: Annotated[Path | None, typer.Option(help="Also append the Markdown report to this file.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write both sides' paired raw samples and the outputs check to this JSON file.")
    ] = None,
) -> None:
    """Time SUITE's models in worker processes of two environments, taking turns; report NEW/BASE per metric.

    First both sides run the base's weights on the base's inputs: outputs or loss beyond --atol/--rtol
    add an "outputs changed" row, a regression."""
    from rnnbench.compare.ab import comparison_of, save_doc

    check_format(fmt)
    options, suite_path = _options(suite, pairs, seconds, threshold, alpha, atol, rtol)
    base = _side("base", base_python, base_path, base_env)
    new = _side("new", new_python, new_path, new_env)
    doc = _run(suite_path, base, new, options, quiet=fmt != TERMINAL_FORMAT)
    comparison = comparison_of(doc, options)
    if out is not None:
        doc["rows"] = [row.__dict__ for row in comparison.rows]
        save_doc(out, doc)
    show_comparison(comparison, fmt, summary, fail_on_regression)


def _options(suite: str, pairs: int, seconds: float, threshold: str, alpha: float, atol: str, rtol: str):
    """The AbOptions the flags ask for (threads from the suite), and the suite's path; bad values fail in one line."""
    from rnnbench.compare.comparison import parse_threshold
    from rnnbench.suite.expand import load_suite
    from rnnbench.suite.files import SuiteError

    try:
        threshold_value = parse_threshold(threshold)
    except ValueError as err:
        raise fail(f"--threshold: {err}") from None
    atol_value, rtol_value = _tolerance(atol, "--atol"), _tolerance(rtol, "--rtol")
    try:
        suite_model, cases, suite_path = load_suite(suite)
    except SuiteError as err:
        raise fail(str(err)) from None
    # the data files, read and checked up front as `run` does (plugins are checked by each side: only its path has them)
    check_data_or_fail(suite_model, cases, suite_path)
    options = AbOptions(
        pairs=pairs,
        seconds=seconds,
        threshold=threshold_value,
        alpha=alpha,
        threads=suite_model.threads,
        atol=atol_value,
        rtol=rtol_value,
    )
    return options, suite_path


def _side(name: str, python: str, path: Path | None, env: list[str] | None):
    """One side: its interpreter, the folder prepended to its PYTHONPATH (must exist), its extra environment."""
    from rnnbench.compare.ab import Side

    if path is not None and not path.is_dir():
        raise fail(f"--{name}-path: {path} is not a folder")
    return Side(name, python, str(path) if path else None, _env(env, f"--{name}-env"))


def _run(suite_path, base, new, options: AbOptions, quiet: bool) -> dict:
    """run_ab, its progress on stderr unless `quiet`; a refusal or Ctrl-C as a one-line failure."""
    from rnnbench.compare.ab import AbError, run_ab

    progress = (lambda _: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        return run_ab(str(Path(suite_path).resolve()), base, new, options, progress)
    except AbError as err:
        raise fail(str(err)) from None
    except KeyboardInterrupt:
        raise fail("interrupted: every worker stopped", 130) from None
