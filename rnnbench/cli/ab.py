"""`rnnbench ab SUITE`: paired A/B timing of one suite between two environments (python, path, env per side), and their outputs."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnbench.cli.compare import TERMINAL_FORMAT, show_comparison
from rnnbench.cli.options import SuiteArg, fail
from rnnbench.compare.numerics import DEFAULT_ATOL, DEFAULT_RTOL
from rnnbench.export.registry import COMPARISON_FORMATS

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
    pairs: Annotated[int, typer.Option(min=1, help="Fresh worker pairs (the unit of the interval).")] = 6,
    seconds: Annotated[float, typer.Option(min=0.1, help="Timing budget over all pairs, seconds.")] = 36.0,
    threshold: Annotated[str, typer.Option(help="Minimum effect that counts, e.g. 5% or 0.05.")] = "5%",
    alpha: Annotated[
        float, typer.Option(min=1e-9, max=0.5, help="Significance level (CIs at 1 - alpha), over worker pairs.")
    ] = 0.05,
    atol: Annotated[
        str,
        typer.Option(
            help="Outputs check: both sides run the base's weights on its inputs; outputs and loss agree when "
            "|NEW - BASE| <= atol + rtol * |BASE| per value. Default about 8 float32 eps, for outputs near zero."
        ),
    ] = f"{DEFAULT_ATOL:g}",
    rtol: Annotated[
        str,
        typer.Option(
            help="Outputs check: relative tolerance. Default about 84 float32 eps: rounding measured 19x inside, "
            "a 0.1% change at least 4.5x outside (docs/ci-gate.md)."
        ),
    ] = f"{DEFAULT_RTOL:g}",
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
    from rnnbench.compare.ab import AbError, AbOptions, Side, comparison_of, run_ab, save_doc
    from rnnbench.compare.comparison import parse_threshold
    from rnnbench.suite.expand import load_suite
    from rnnbench.suite.files import SuiteError

    choices = (TERMINAL_FORMAT, *COMPARISON_FORMATS)
    if fmt not in choices:
        raise fail(f"--format: {fmt!r} is not one of {', '.join(choices)}")
    try:
        threshold_value = parse_threshold(threshold)
    except ValueError as err:
        raise fail(f"--threshold: {err}") from None
    atol_value, rtol_value = _tolerance(atol, "--atol"), _tolerance(rtol, "--rtol")
    try:
        suite_model, _, suite_path = load_suite(suite)
    except SuiteError as err:
        raise fail(str(err)) from None
    options = AbOptions(
        pairs=pairs,
        seconds=seconds,
        threshold=threshold_value,
        alpha=alpha,
        threads=suite_model.threads,
        atol=atol_value,
        rtol=rtol_value,
    )
    for flag, path in (("--base-path", base_path), ("--new-path", new_path)):
        if path is not None and not path.is_dir():
            raise fail(f"{flag}: {path} is not a folder")
    base = Side("base", base_python, str(base_path) if base_path else None, _env(base_env, "--base-env"))
    new = Side("new", new_python, str(new_path) if new_path else None, _env(new_env, "--new-env"))
    progress = (lambda msg: print(msg, file=sys.stderr)) if fmt == TERMINAL_FORMAT else (lambda _: None)
    try:
        doc = run_ab(str(Path(suite_path).resolve()), base, new, options, progress)
    except AbError as err:
        raise fail(str(err)) from None
    except KeyboardInterrupt:
        raise fail("interrupted: every worker stopped", 130) from None
    comparison = comparison_of(doc, options)
    if out is not None:
        doc["rows"] = [row.__dict__ for row in comparison.rows]
        save_doc(out, doc)
    show_comparison(comparison, fmt, summary, fail_on_regression)
