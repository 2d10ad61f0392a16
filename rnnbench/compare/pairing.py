"""Compare two results files: match cases, check they are comparable, build every metric's row, decide (torch-free).

How a single metric is judged lives in compare_rows; this module pairs the runs up,
refuses incomparable ones, applies --normalize and the suite's thresholds, and lists
whatever it could not compare.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from rnnbench import stats
from rnnbench.compare.checks import check_comparable, placement_diff, settings_diff
from rnnbench.compare.comparison import (
    CompareError,
    CompareOptions,
    Comparison,
    RunMeta,
    resolve_thresholds,
    threshold_for,
)
from rnnbench.compare.drift import paired_drift, reference_drift, reference_ms, timed_itself
from rnnbench.compare.rows import (
    ACCURACY_METRIC,
    SOLVE_METRIC,
    Row,
    Scale,
    accuracy_row,
    solve_row,
    timing_row,
)
from rnnbench.phases import PHASES
from rnnbench.results.records import CaseJson, FinalJson, ResultsJson, TimingJson, TrainJson
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results


def config_of(case_id: str) -> str:
    """The case id without its seed part: the seeds of a configuration are pooled."""
    return case_id.rsplit("/", 1)[0]


def timing_samples(case: CaseJson) -> dict[str, tuple[str, int | None, list[float]]]:
    """metric name -> (unit, batch size for throughput, raw samples in ms)."""
    out: dict[str, tuple[str, int | None, list[float]]] = {}
    train: TrainJson = case.get("train") or {}

    def add(name: str, node: TimingJson | None, unit: str = "ms", batch: int | None = None) -> None:
        if isinstance(node, dict) and node.get("samples"):
            out[name] = (unit, batch, [float(x) for x in node["samples"]])

    add("step", train.get("step_ms"))
    for phase in PHASES:
        add(phase, (train.get("phases_ms") or {}).get(phase))
    inference = case.get("inference") or {}
    for key in sorted(inference, key=lambda k: int(k[1:]) if k[1:].isdigit() else 0):
        size = int(key[1:]) if key[1:].isdigit() else 1
        latency = (inference[key] or {}).get("latency_ms")  # null only in a file not loaded by load_results
        if size == 1:
            add(f"latency_{key}", latency)
        else:  # throughput: the same samples, read as sequences per second (higher is better)
            add(f"throughput_{key}", latency, "seq/s", size)
    return out


def _match(base: ResultsJson, new: ResultsJson, out: Comparison) -> list[tuple[CaseJson, CaseJson]]:
    """Pairs of cases with the same id that both carry measurements; everything else is listed in `out`."""
    base_by_id = {c["id"]: c for c in base["cases"]}
    new_by_id = {c["id"]: c for c in new["cases"]}
    out.only_in_base = [cid for cid in base_by_id if cid not in new_by_id]
    out.only_in_new = [cid for cid in new_by_id if cid not in base_by_id]
    pairs = []
    for cid, base_case in base_by_id.items():
        new_case = new_by_id.get(cid)
        if new_case is None:
            continue
        unusable = [
            f"{side} {c['status']}"
            for side, c in (("BASE", base_case), ("NEW", new_case))
            if c.get("status") not in ("ok", "diverged")
        ]
        differing = settings_diff(base_case, new_case)
        elsewhere = placement_diff(base_case, new_case, out.options.normalize)
        if unusable:
            out.not_compared.append((cid, ", ".join(unusable)))
        elif elsewhere and not out.options.allow_env_mismatch:
            out.not_compared.append((cid, f"could not compare: {elsewhere}"))
        elif differing:
            out.not_compared.append((cid, f"settings differ: {', '.join(differing)}"))
        else:
            pairs.append((base_case, new_case))
    return pairs


def _scale(base: ResultsJson, new: ResultsJson, out: Comparison) -> Scale:
    """The machines by the reference kernel: its change between the runs, its drift within them, the view shown."""
    base_ref, new_ref = reference_ms(base), reference_ms(new)
    if out.options.normalize:
        missing = [name for name, ref in ((out.base_name, base_ref), (out.new_name, new_ref)) if not ref]
        if missing:
            raise CompareError(f"--normalize: {missing[0]} has no reference matmul time (reference.start.matmul_ms)")
    if not (base_ref and new_ref):
        out.notes.append(
            "no reference kernel time in both runs: a change of machine speed cannot be told from the code's"
        )
        return Scale()
    out.machine_ratio = new_ref / base_ref
    drift = reference_drift(base) + reference_drift(new)
    view = (base_ref, new_ref) if out.options.normalize else (1.0, 1.0)
    shown = (
        "normalized: every timing divided by its run's reference matmul time"
        if out.options.normalize
        else "raw timings"
    )
    out.notes.append(
        f"{shown}; the reference matmul ran {out.machine_ratio:.2f}× as long in NEW "
        f"(BASE {base_ref:.3g} ms, NEW {new_ref:.3g} ms) and drifted ±{math.expm1(drift):.0%} within the runs"
    )
    moved = paired_drift(base, new)
    if moved > 0:
        out.notes.append(
            f"the within-run paired ratios moved ±{math.expm1(moved):.0%} between the runs: "
            "the runs' own drift, added to every minimum effect"
        )
    return Scale(*view, machine=out.machine_ratio, noise=drift + moved)


def _notes(base: ResultsJson, new: ResultsJson, out: Comparison) -> None:
    for side, doc in (("BASE", base), ("NEW", new)):
        factor = doc["env"].get("test_slowdown")
        if factor:
            out.notes.append(f"{side} is a padded test run (RNNBENCH_TEST_SLOWDOWN={factor}): not a real measurement")
        if doc.get("status") not in (None, "complete"):
            out.notes.append(f"{side} is {doc.get('status')}: not every case ran")
        hosts = doc["env"].get("hosts") or []
        if len(hosts) > 1:  # each timing group ran on one worker; across groups the hosts may differ
            out.notes.append(f"{side} ran on {len(hosts)} hosts ({', '.join(hosts)}): paired ratios stay within one")
    ignored = {"thresholds", "description", "device"}  # the device itself is compared in env
    differing = sorted(
        k
        for k in set(base["suite"]) | set(new["suite"])
        if k not in ignored and base["suite"].get(k) != new["suite"].get(k)
    )
    if differing:
        out.notes.append(
            f"the suite definition changed ({', '.join(differing)}): matched cases with other settings are not compared"
        )
    if base["suite"].get("thresholds") != new["suite"].get("thresholds"):
        out.notes.append("the suite thresholds changed: NEW's are used")


def compare(
    base: ResultsJson,
    new: ResultsJson,
    options: CompareOptions = CompareOptions(),
    base_name: str = "BASE",
    new_name: str = "NEW",
) -> Comparison:
    """Every metric of every matched configuration, with its verdict; raises CompareError for incomparable inputs."""
    if not 0.0 < options.alpha < 1.0:
        raise CompareError(f"alpha {options.alpha} must be between 0 and 1")
    out = Comparison(base_name, new_name, str(new["suite"].get("name")), options)
    out.env_diffs = check_comparable(base, new, options.allow_env_mismatch)
    out.base_meta, out.new_meta = _meta(base), _meta(new)
    pairs = _match(base, new, out)
    if not pairs:
        why = f": {out.not_compared[0][0]}: {out.not_compared[0][1]}" if out.not_compared else ""
        raise CompareError(f"{base_name} and {new_name} have no measured case in common{why}")
    scale = _scale(base, new, out)
    _notes(base, new, out)
    configs: dict[str, list[tuple[CaseJson, CaseJson]]] = {}
    for pair in pairs:
        configs.setdefault(config_of(pair[0]["id"]), []).append(pair)
    metrics = {m for b, _ in pairs for m in timing_samples(b)} | {SOLVE_METRIC, ACCURACY_METRIC}
    thresholds = resolve_thresholds(new["suite"].get("thresholds") or {}, metrics)
    for config, group in configs.items():
        try:
            out.rows += _config_rows(
                config, group, scale, lambda m: threshold_for(m, thresholds, options.threshold), options.alpha
            )
        except (TypeError, ValueError, KeyError, AttributeError) as err:  # a hand-edited or foreign record
            raise CompareError(f"{config}: malformed case record ({type(err).__name__}: {err})") from None
        diverged = [c["id"] for pair in group for c in pair if c["status"] == "diverged"]
        if diverged:
            out.notes.append(f"diverged (timings compared, accuracy not): {', '.join(diverged)}")
    out.geomeans = _geomeans(out.rows)
    return out


def _config_rows(
    config: str,
    group: list[tuple[CaseJson, CaseJson]],
    scale: Scale,
    limit: Callable[[str], float],
    alpha: float,
) -> list[Row]:
    """The rows of one configuration: its timings (seeds pooled), time to solve and final metric (across seeds)."""
    label = group[0][1].get("label", group[0][1]["arch"])
    rows = []
    # seeds timed interleaved share their model's samples (paired.timed_as): count them once
    base_timings = [(b["id"], timing_samples(b)) for b, _ in group if timed_itself(b)]
    new_timings = [(n["id"], timing_samples(n)) for _, n in group if timed_itself(n)]
    for metric, (unit, batch, _) in base_timings[0][1].items():
        base_seeds = [(cid, t[metric][2]) for cid, t in base_timings if metric in t]
        new_seeds = [(cid, t[metric][2]) for cid, t in new_timings if metric in t]
        if base_seeds and new_seeds:
            rows.append(
                timing_row(config, label, metric, unit, batch, base_seeds, new_seeds, scale, limit(metric), alpha)
            )
    base_solve, new_solve = ([ms for c in cases if (ms := _ms_to_solve(c)) is not None] for cases in zip(*group))
    if base_solve or new_solve:
        rows.append(
            solve_row(config, label, base_solve, new_solve, (len(group), len(group)), scale, limit(SOLVE_METRIC), alpha)
        )
    base_finals, new_finals = ([final for c in cases if (final := _final(c))] for cases in zip(*group))
    if base_finals and new_finals:
        rows.append(accuracy_row(config, label, base_finals, new_finals, limit(ACCURACY_METRIC), alpha))
    return rows


def _ms_to_solve(case: CaseJson) -> float | None:
    return (case.get("train") or {}).get("ms_to_solve") if case["status"] == "ok" else None


def _meta(doc: ResultsJson) -> RunMeta:
    env = doc["env"]
    return RunMeta(
        git_sha=env.get("git_sha"),
        started_at=doc.get("started_at"),
        rnnbench_version=doc.get("rnnbench_version"),
        device_name=env.get("device_name"),
        torch=env.get("torch"),
        test_slowdown=env.get("test_slowdown"),
    )


def _final(case: CaseJson) -> FinalJson | None:
    final: FinalJson = (case.get("train") or {}).get("final") or {}
    return final if case["status"] == "ok" and final.get("metric") is not None else None


def _geomeans(rows: list[Row]) -> dict[str, float]:
    """Geometric mean of the timing ratios per architecture (label) and overall."""
    by_label: dict[str, list[float]] = {}
    for row in rows:
        if row.kind == "timing" and row.ratio:
            by_label.setdefault(row.label, []).append(row.ratio)
    out = {label: stats.geomean(ratios) for label, ratios in by_label.items()}
    everything = [r for ratios in by_label.values() for r in ratios]
    if everything:
        out["overall"] = stats.geomean(everything)
    return out


def latest_pair(directory: Path) -> tuple[Path, Path]:
    """The two newest complete results of the same suite in `directory` (the suite of the newest one)."""
    found: list[tuple[str, str, Path]] = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            doc = load_results(path)
        except ResultsError:
            continue  # not a results file, or a damaged one: not a candidate
        if doc.get("status") == "complete":
            found.append((str(doc.get("started_at") or ""), str(doc["suite"].get("name")), path))
    if not found:
        raise CompareError(
            f"{directory}: no complete results file to compare (run a suite first, or name BASE and NEW)"
        )
    found.sort()
    suite = found[-1][1]
    same = [path for _, name, path in found if name == suite]
    if len(same) < 2:
        raise CompareError(f"{directory}: only one complete results file of suite {suite!r} ({same[0]}); need two")
    return same[-2], same[-1]
