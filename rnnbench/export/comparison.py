"""Machine-readable outputs: a comparison as JSON, and a results file in github-action-benchmark's format."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rnnbench import stats
from rnnbench.compare.pairing import SOLVE_METRIC, Comparison, config_of, timing_samples
from rnnbench.results.store import finite_or_none as _finite

EXPORT_FORMATS = ("github-action-benchmark",)


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """Everything the table shows, plus per-seed ratios; `regressed` is what --fail-on-regression acts on."""
    c = comparison
    return _finite(
        {
            "suite": c.suite,
            "base": {"path": c.base_name, **c.base_meta},
            "new": {"path": c.new_name, **c.new_meta},
            "options": asdict(c.options),
            "regressed": bool(c.regressions),
            "n_regressions": len(c.regressions),
            "resolution": c.resolution,
            "too_noisy": c.too_noisy,
            "rows": [asdict(row) for row in c.rows],
            "geomeans": c.geomeans,
            "machine_ratio": c.machine_ratio,
            "env_diffs": [{"key": k, "base": a, "new": b, "blocking": hard} for k, a, b, hard in c.env_diffs],
            "notes": c.notes,
            "only_in_base": c.only_in_base,
            "only_in_new": c.only_in_new,
            "not_compared": [{"id": cid, "reason": why} for cid, why in c.not_compared],
        }
    )


def github_action_benchmark(doc: dict[str, Any]) -> list[dict[str, Any]]:
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
    env = doc.get("env") or {}
    where = f"{env.get('device_name', '?')}, torch {env.get('torch', '?')}, {env.get('dtype', '?')}"
    entries = []
    for (config, metric), samples in pooled.items():
        summary = stats.summarize(samples)
        low, high = summary["ci95"]
        entries.append(
            {
                "name": f"{config} {metric}",
                "unit": "ms",
                "value": summary["median"],
                "range": f"± {(high - low) / 2:.4g}",
                "extra": f"median of {summary['n']} samples; {where}",
            }
        )
    for config, values in solve.items():
        entries.append(
            {
                "name": f"{config} {SOLVE_METRIC}",
                "unit": "ms",
                "value": stats.median(values),
                "extra": f"median over {len(values)} solved seed(s); {where}",
            }
        )
    return _finite(entries)
