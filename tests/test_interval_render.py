"""Every interval says what it is: unbounded sides are open or "too few to bound", low coverage is named (issue 16)."""

from __future__ import annotations

import csv
import io
import json

import pytest
import results_factory as rf
from rich.console import Console

from rnnbench import stats
from rnnbench.compare.pairing import compare
from rnnbench.export.csv_rows import csv_report
from rnnbench.export.github_action import github_action_benchmark
from rnnbench.export.json_doc import comparison_json_text
from rnnbench.export.markdown import comparison_markdown
from rnnbench.render import format as fmt
from rnnbench.render.compare import comparison_renderable
from rnnbench.render.recap import recap_table


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (1.14, 1.25, "[1.14, 1.25]"),
        (1.143, float("inf"), "[1.14, ∞)"),
        (0.0, 1.25, "(0, 1.25]"),
        (0.0, float("inf"), "too few to bound"),
    ],
)
def test_format_interval_opens_unbounded_sides(low, high, text):
    assert fmt.format_interval(low, high) == text


def test_a_ratio_ci_of_3_vs_3_prints_as_too_few_to_bound():
    ratio, low, high = stats.ratio_ci([10, 10.5, 11], [11.5, 12, 12.5])
    assert fmt.format_ratio_ci(ratio, low, high) == "×1.14 (too few to bound)"


@pytest.mark.parametrize(("coverage", "label"), [(0.75, "75 % CI"), (0.9375, "93.75 % CI"), (0.96875, "95 % CI")])
def test_coverage_label_drops_95_below_the_level(coverage, label):
    assert fmt.coverage_label(coverage) == label


def test_format_timing_names_the_real_coverage_below_six_samples():
    three, ten = stats.summarize([1.0, 1.1, 1.2]), stats.summarize([1.0 + 0.01 * i for i in range(10)])
    assert "(75 % CI)" in fmt.format_timing(three)
    assert "CI" not in fmt.format_timing(ten)
    old = {k: v for k, v in three.items() if k != "ci_coverage"}  # a file written before ci_coverage
    assert "(75 % CI)" in fmt.format_timing(old)


@pytest.fixture(scope="module")
def three_seed_comparison():
    """3 vs 3 seeds solving: the time-to-solve interval cannot be bounded (min p = 0.1)."""
    return compare(
        rf.make_doc(0, seeds=3, ms_to_solve=1000.0, only_step=True),
        rf.make_doc(1, seeds=3, ms_to_solve=5000.0, only_step=True),
    )


def _solve_row(comparison):
    return next(r for r in comparison.rows if r.metric == "time_to_solve")


def test_terminal_compare_prints_too_few_to_bound(three_seed_comparison):
    row = _solve_row(three_seed_comparison)
    assert row.ci == (0.0, float("inf"))
    console = Console(file=io.StringIO(), width=200)
    console.print(comparison_renderable(three_seed_comparison))
    text = console.file.getvalue()
    assert "too few to bound" in text
    assert "inf" not in text


def test_markdown_compare_prints_too_few_to_bound(three_seed_comparison):
    text = comparison_markdown(three_seed_comparison)
    solve_lines = [line for line in text.splitlines() if "time_to_solve" in line]
    assert solve_lines and all("too few to bound" in line for line in solve_lines)
    assert "inf" not in text


def test_json_compare_writes_unbounded_sides_as_null(three_seed_comparison):
    rows = json.loads(comparison_json_text(three_seed_comparison))["rows"]
    solve = next(r for r in rows if r["metric"] == "time_to_solve")
    assert solve["ci"] == [None, None]
    assert solve["ci_text"] == "too few to bound"
    step = next(r for r in rows if r["metric"] == "step")
    assert None not in step["ci"] and step["ci_text"].startswith("[")


def _three_sample_doc():
    return rf.document([rf.case("lstm", step_ms=rf.samples(10.0, n=3))])


def test_recap_names_the_coverage_of_a_three_sample_timing():
    console = Console(file=io.StringIO(), width=200)
    console.print(recap_table(_three_sample_doc()))
    text = console.file.getvalue()
    assert "(75 % CI)" in text


def test_csv_writes_the_interval_coverage():
    rows = list(csv.DictReader(io.StringIO(csv_report(_three_sample_doc()))))
    assert float(rows[0]["step_ms_ci_coverage"]) == pytest.approx(0.75)


def test_github_action_range_says_when_it_is_not_95():
    entries = {e["name"]: e for e in github_action_benchmark(_three_sample_doc())}
    step = next(e for name, e in entries.items() if name.endswith(" step"))
    assert "range is a 75 % CI" in step["extra"]
    ten = rf.document([rf.case("lstm", step_ms=rf.samples(10.0, n=10))])
    step = next(e for e in github_action_benchmark(ten) if e["name"].endswith(" step"))
    assert "CI" not in step["extra"]
