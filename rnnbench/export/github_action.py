"""github-action-benchmark export: a results file as `customSmallerIsBetter` entries."""

from __future__ import annotations

import json
import math
from typing import TypedDict, cast

from typing_extensions import NotRequired

from rnnbench import stats
from rnnbench.compare.pairing import config_of, timing_samples
from rnnbench.compare.rows import SOLVE_METRIC
from rnnbench.render.format import LEVEL, coverage_label, summary_coverage
from rnnbench.results.records import EnvJson, ResultsJson, TimingJson
from rnnbench.results.store import finite_or_none


class BenchmarkEntry(TypedDict):
    """One `customSmallerIsBetter` entry of github-action-benchmark."""

    name: str
    unit: str
    value: float | None  # null where not finite
    range: NotRequired[str]
    extra: str


def _coverage_note(summary: TimingJson) -> str:
    """`range` is a 95 % interval only from 6 samples on; below, its real coverage is named."""
    coverage = summary_coverage(summary)
    return "" if coverage >= LEVEL else f", range is a {coverage_label(coverage)}"


def github_action_benchmark(doc: ResultsJson) -> list[BenchmarkEntry]:
    """`customSmallerIsBetter` entries: every timing of every configuration (seeds pooled), in milliseconds.

    Throughput is exported as the latency at that batch size, so that smaller is
    better throughout; `range` is the half-width of the median's 95 % CI.
    """
    pooled: dict[tuple[str, str], list[float]] = {}
    solve: dict[str, list[float]] = {}
    for case in doc["cases"]:
        if case.get("status") not in ("ok", "diverged"):
            continue
        config = config_of(case["id"])
        for metric, (_, batch, samples) in timing_samples(case).items():
            name = f"latency_b{batch}" if batch else metric
            pooled.setdefault((config, name), []).extend(samples)
        ms = (case.get("train") or {}).get("ms_to_solve")
        if case["status"] == "ok" and ms is not None:
            solve.setdefault(config, []).append(float(ms))
    env: EnvJson = doc.get("env") or {}
    where = f"{env.get('device_name', '?')}, torch {env.get('torch', '?')}, {env.get('dtype', '?')}"
    entries: list[BenchmarkEntry] = []
    for (config, metric), samples in pooled.items():
        summary = cast(TimingJson, stats.summarize(samples))
        low, high = summary["ci95"] or (math.nan, math.nan)  # summarize always gives one
        entries.append(
            BenchmarkEntry(
                name=f"{config} {metric}",
                unit="ms",
                value=summary["median"],
                range=f"± {(high - low) / 2:.4g}",
                extra=f"median of {summary['n']} samples{_coverage_note(summary)}; {where}",
            )
        )
    for config, values in solve.items():
        entries.append(
            BenchmarkEntry(
                name=f"{config} {SOLVE_METRIC}",
                unit="ms",
                value=stats.median(values),
                extra=f"median over {len(values)} solved seed(s); {where}",
            )
        )
    out: list[BenchmarkEntry] = finite_or_none(entries)  # a non-finite value becomes null
    return out


def github_action_benchmark_text(doc: ResultsJson) -> str:
    return json.dumps(github_action_benchmark(doc), indent=1, ensure_ascii=False) + "\n"
