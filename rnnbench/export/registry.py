"""The one registry of export formats: each names what it can export (a results document, a comparison, or both)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rnnbench.compare.comparison import Comparison
from rnnbench.export.csv_rows import csv_report
from rnnbench.export.github_action import github_action_benchmark_text
from rnnbench.export.json_doc import comparison_json_text, json_report
from rnnbench.export.markdown import comparison_markdown, markdown_report
from rnnbench.results.records import ResultsJson


@dataclass(frozen=True)
class Exporter:
    """One format: text from a results document and/or from a comparison; None where it does not apply."""

    description: str
    results: Callable[[ResultsJson], str] | None = None
    comparison: Callable[[Comparison], str] | None = None


FORMATS: dict[str, Exporter] = {
    "md": Exporter(
        "Markdown: the recap, analyses and claims; or a comparison for a CI job summary",
        markdown_report,
        comparison_markdown,
    ),
    "json": Exporter(
        "JSON: the claims with every number; or a comparison with every row", json_report, comparison_json_text
    ),
    "csv": Exporter("CSV: one row per case", csv_report),
    "github-action-benchmark": Exporter(
        "github-action-benchmark's customSmallerIsBetter JSON", github_action_benchmark_text
    ),
}

RESULTS_FORMATS = tuple(name for name, exporter in FORMATS.items() if exporter.results is not None)
COMPARISON_FORMATS = tuple(name for name, exporter in FORMATS.items() if exporter.comparison is not None)


def export_results(doc: ResultsJson, fmt: str) -> str:
    exporter = FORMATS.get(fmt)
    if exporter is None or exporter.results is None:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(RESULTS_FORMATS)})")
    return exporter.results(doc)


def export_comparison(comparison: Comparison, fmt: str) -> str:
    exporter = FORMATS.get(fmt)
    if exporter is None or exporter.comparison is None:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(COMPARISON_FORMATS)})")
    return exporter.comparison(comparison)
