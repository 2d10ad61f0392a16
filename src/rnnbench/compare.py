"""Compare two results files: timing ratios with CIs and p-values, accuracy changes, the regression decision (torch-free).

The gate is built not to cry wolf on a shared or noisy machine. A timing counts as
slower (or faster) only when all of these hold:

1. significant: two-sided Mann-Whitney p < alpha on the raw samples, seeds pooled;
2. beyond its minimum effect: the ratio of medians NEW/BASE is past 1 + threshold
   (default 5 %, per-metric overrides in the suite's `thresholds:`), and past the
   timing's own spread, the interquartile range of its log samples: a machine
   whose contention comes and goes moves the median within that range between two
   runs without any change in the code;
3. reproduced: every seed, a timing block measured at its own moment of the run,
   is past 1 + threshold on its own: a load burst hits one block, a code change all.

Per-seed quantities (time to solve, final metric) are compared across seeds, tested
only with MIN_SEEDS_FOR_TEST seeds or more on each side, and never gate otherwise.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnbench import stats
from rnnbench.results import ResultsError, load_results

DEFAULT_ALPHA = 0.01
DEFAULT_THRESHOLD = 0.05
MIN_SEEDS_FOR_TEST = 3
BLOCKING_ENV_KEYS = ("device", "torch", "dtype")  # timings across these are incomparable
SHOWN_ENV_KEYS = ("device_name", "threads", "cuda", "cudnn", "python", "platform")  # shown when they differ
PHASES = ("forward", "backward", "optimizer")
SOLVE_METRIC, ACCURACY_METRIC = "ms_to_solve", "final_metric"


class CompareError(Exception):
    """Inputs that cannot be compared (different suites, environments, bad thresholds); one line."""


@dataclass(frozen=True)
class CompareOptions:
    alpha: float = DEFAULT_ALPHA  # significance level of every test; CIs are at 1 - alpha
    threshold: float = DEFAULT_THRESHOLD  # minimum effect, a fraction; suite `thresholds:` override per metric
    normalize: bool = False  # divide each timing by its run's reference matmul time
    allow_env_mismatch: bool = False  # compare across device / torch / dtype anyway


@dataclass(frozen=True)
class Row:
    """One metric of one configuration (a case id without its seed), seeds pooled."""

    config: str
    label: str
    metric: str
    kind: str  # timing | solve | accuracy
    unit: str  # ms, seq/s, or the task's metric name
    base: float | None  # median as measured (not normalized)
    new: float | None
    ratio: float | None = None  # NEW/BASE duration (> 1: slower; throughput is inverted), normalized if asked
    ci: tuple[float, float] | None = None  # (1 - alpha) interval of the ratio; excludes 1 exactly when p < alpha
    delta: float | None = None  # accuracy: NEW - BASE skill, as a fraction of chance-to-perfect (> 0: better)
    p: float | None = None
    min_effect: float = DEFAULT_THRESHOLD  # the threshold in force, raised to the spread for timings
    verdict: str = "~"  # faster | slower | better | worse | ~ ; a trailing "?" means untested (too few seeds)
    regression: bool = False
    reason: str = ""  # why a change is "~" or untested
    n_base: int = 0
    n_new: int = 0
    seeds: tuple[tuple[str, float], ...] = ()  # (case id, its own ratio) per seed


@dataclass
class Comparison:
    base_name: str
    new_name: str
    suite: str
    options: CompareOptions
    rows: list[Row] = field(default_factory=list)
    only_in_base: list[str] = field(default_factory=list)
    only_in_new: list[str] = field(default_factory=list)
    not_compared: list[tuple[str, str]] = field(default_factory=list)  # (case id, why)
    env_diffs: list[tuple[str, Any, Any, bool]] = field(default_factory=list)  # (key, base, new, blocking)
    notes: list[str] = field(default_factory=list)
    machine_ratio: float | None = None  # NEW/BASE reference matmul time: > 1, the NEW machine was slower
    geomeans: dict[str, float] = field(default_factory=dict)  # label (and "overall") -> geomean of timing ratios
    base_meta: dict[str, Any] = field(default_factory=dict)  # git_sha, started_at, rnnbench_version of each run
    new_meta: dict[str, Any] = field(default_factory=dict)

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.regression]


def parse_threshold(text: str | float) -> float:
    """`5%` or `0.05` -> 0.05; a bare number of 1 or more is refused as ambiguous."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(f"threshold {raw!r} is not a number (write 5% or 0.05)") from None
    if not raw.endswith("%") and value >= 1.0:
        raise ValueError(f"threshold {raw!r} is ambiguous: write {raw}% or {value / 100:g}")
    if not 0.0 <= value < math.inf:
        raise ValueError(f"threshold {raw!r} must be a non-negative fraction")
    return value


def config_of(case_id: str) -> str:
    """The case id without its seed part: the seeds of a configuration are pooled."""
    return case_id.rsplit("/", 1)[0]


def timing_samples(case: dict[str, Any]) -> dict[str, tuple[str, int | None, list[float]]]:
    """metric name -> (unit, batch size for throughput, raw samples in ms)."""
    out: dict[str, tuple[str, int | None, list[float]]] = {}
    train = case.get("train") or {}

    def add(name: str, node: Any, unit: str = "ms", batch: int | None = None) -> None:
        if isinstance(node, dict) and node.get("samples"):
            out[name] = (unit, batch, [float(x) for x in node["samples"]])

    add("step_ms", train.get("step_ms"))
    for phase in PHASES:
        add(f"{phase}_ms", (train.get("phases_ms") or {}).get(phase))
    inference = case.get("inference") or {}
    for key in sorted(inference, key=lambda k: int(k[1:]) if k[1:].isdigit() else 0):
        size = int(key[1:]) if key[1:].isdigit() else 1
        latency = (inference[key] or {}).get("latency_ms")
        if size == 1:
            add(f"latency_{key}_ms", latency)
        else:  # throughput: the same samples, read as sequences per second (higher is better)
            add(f"throughput_{key}", latency, "seq/s", size)
    return out


def reference_ms(doc: dict[str, Any]) -> float | None:
    """The run's reference matmul time: geometric mean of its start and end medians, so drift over the run counts."""
    ref = doc.get("reference") or {}
    times = [ref[k]["matmul_ms"]["median"] for k in ("start", "end") if isinstance(ref.get(k), dict) and ref[k].get("matmul_ms")]
    times = [t for t in times if isinstance(t, (int, float)) and t > 0]
    return stats.geomean(times) if times else None


def check_comparable(base: dict[str, Any], new: dict[str, Any], allow_env_mismatch: bool) -> list[tuple[str, Any, Any, bool]]:
    """Raise CompareError for different schemas, suites or (unless allowed) environments; return every env difference."""
    if base.get("schema_version") != new.get("schema_version"):
        raise CompareError(f"different schema versions ({base.get('schema_version')} vs {new.get('schema_version')})")
    names = (base["suite"].get("name"), new["suite"].get("name"))
    if names[0] != names[1]:
        raise CompareError(f"different suites ({names[0]!r} vs {names[1]!r}): compare runs of the same suite")
    diffs = []
    for key in BLOCKING_ENV_KEYS + SHOWN_ENV_KEYS:
        old, now = base["env"].get(key), new["env"].get(key)
        if old != now:
            diffs.append((key, old, now, key in BLOCKING_ENV_KEYS))
    blocking = [f"{k} {a} -> {b}" for k, a, b, hard in diffs if hard]
    if blocking and not allow_env_mismatch:
        raise CompareError(f"incomparable environments: {', '.join(blocking)} (--allow-env-mismatch compares anyway)")
    return diffs


def resolve_thresholds(suite_thresholds: Mapping[str, float], metrics: set[str]) -> dict[str, float]:
    """Validate the suite's per-metric thresholds: keys are metric names or shell patterns (`latency_*`)."""
    for key, value in suite_thresholds.items():
        if not isinstance(value, (int, float)) or not 0.0 <= value < math.inf:
            raise CompareError(f"suite thresholds.{key}: {value!r} must be a non-negative fraction (0.10 = 10 %)")
        if not any(fnmatch.fnmatchcase(metric, key) for metric in metrics):
            raise CompareError(f"suite thresholds.{key}: matches no metric (metrics: {', '.join(sorted(metrics))})")
    return dict(suite_thresholds)


def threshold_for(metric: str, thresholds: Mapping[str, float], default: float) -> float:
    """An exact key wins, then the first matching pattern, then the default."""
    if metric in thresholds:
        return float(thresholds[metric])
    for key, value in thresholds.items():
        if fnmatch.fnmatchcase(metric, key):
            return float(value)
    return default


def _log_iqr(xs: list[float]) -> float:
    q1, q3 = np.percentile(np.log(xs), [25, 75])
    return float(q3 - q1)


def _direction(ratio: float, limit: float) -> str:
    """slower / faster when the ratio is past 1 + limit (log-symmetric), else ~."""
    return "slower" if ratio > 1.0 + limit else ("faster" if ratio < 1.0 / (1.0 + limit) else "~")


def timing_row(config: str, label: str, metric: str, unit: str, batch: int | None,
               base_seeds: list[tuple[str, list[float]]], new_seeds: list[tuple[str, list[float]]],
               scale: tuple[float, float], threshold: float, alpha: float) -> Row:
    """One timing, seeds pooled. `scale` divides BASE and NEW samples (the reference times under --normalize)."""
    base_all = [x for _, xs in base_seeds for x in xs]
    new_all = [x for _, xs in new_seeds for x in xs]
    base_scaled = [x / scale[0] for x in base_all]
    new_scaled = [x / scale[1] for x in new_all]
    ratio, low, high = stats.ratio_ci(base_scaled, new_scaled, confidence=1.0 - alpha)
    p = stats.mann_whitney_p(base_scaled, new_scaled)
    spread = math.exp(max(_log_iqr(base_all), _log_iqr(new_all))) - 1.0
    min_effect = max(threshold, spread)
    new_by_case = dict(new_seeds)
    per_seed = tuple(
        (case, stats.median(new_by_case[case]) / scale[1] / (stats.median(xs) / scale[0]))
        for case, xs in base_seeds if case in new_by_case
    )
    direction = _direction(ratio, min_effect)
    reason = ""
    if p >= alpha:
        direction, reason = "~", "not significant"
    elif direction == "~":
        reason = "below threshold" if _direction(ratio, threshold) == "~" else f"within the spread (±{spread:.0%})"
    elif len(per_seed) > 1 and any(_direction(r, threshold) != direction for _, r in per_seed):
        direction, reason = "~", "not in every seed"
    shown = (lambda ms: batch / ms * 1e3) if batch else (lambda ms: ms)
    return Row(
        config=config, label=label, metric=metric, kind="timing", unit=unit,
        base=shown(stats.median(base_all)), new=shown(stats.median(new_all)),
        ratio=ratio, ci=(low, high), p=p, min_effect=min_effect, verdict=direction,
        regression=direction == "slower", reason=reason, n_base=len(base_all), n_new=len(new_all), seeds=per_seed,
    )


def solve_row(config: str, label: str, base: list[float], new: list[float], n_seeds: tuple[int, int],
              scale: tuple[float, float], threshold: float, alpha: float) -> Row:
    """Time to solve across seeds: medians always, a test only with enough seeds solved on both sides."""
    solved = f"solved {len(base)}/{n_seeds[0]} -> {len(new)}/{n_seeds[1]} seeds"
    row = Row(config=config, label=label, metric=SOLVE_METRIC, kind="solve", unit="ms",
              base=stats.median(base) if base else None, new=stats.median(new) if new else None,
              min_effect=threshold, n_base=len(base), n_new=len(new), reason=solved)
    if not base or not new:
        return row
    base_scaled, new_scaled = [x / scale[0] for x in base], [x / scale[1] for x in new]
    if min(len(base), len(new)) < MIN_SEEDS_FOR_TEST:
        ratio = stats.median(new_scaled) / stats.median(base_scaled)
        guess = _direction(ratio, threshold)
        return replace(row, ratio=ratio, verdict=guess + "?" if guess != "~" else "~", reason=f"untested (< {MIN_SEEDS_FOR_TEST} seeds); {solved}")
    ratio, low, high = stats.ratio_ci(base_scaled, new_scaled, confidence=1.0 - alpha)
    p = stats.mann_whitney_p(base_scaled, new_scaled)
    verdict = _direction(ratio, threshold) if p < alpha else "~"
    return replace(row, ratio=ratio, ci=(low, high), p=p, verdict=verdict, regression=verdict == "slower",
                    reason=solved if verdict != "~" else ("not significant; " if p >= alpha else "below threshold; ") + solved)


def skill(final: dict[str, Any]) -> float:
    """The final metric as a fraction of the way from chance (0) to perfect (1), so a drop reads the same for mse and accuracy."""
    metric, chance, higher = float(final["metric"]), final.get("chance"), bool(final.get("higher_is_better", True))
    ideal = 1.0 if higher else 0.0
    if chance is None or chance == ideal:
        return metric if higher else -metric
    return (metric - chance) / (ideal - chance)


def accuracy_row(config: str, label: str, base: list[dict[str, Any]], new: list[dict[str, Any]],
                 threshold: float, alpha: float) -> Row:
    """Final metric across seeds; a drop of more than `threshold` of chance-to-perfect is worse."""
    name = (new or base)[0].get("metric_name", "metric")
    base_skill, new_skill = [skill(f) for f in base], [skill(f) for f in new]
    delta = stats.median(new_skill) - stats.median(base_skill)
    direction = "worse" if delta < -threshold else ("better" if delta > threshold else "~")
    row = Row(config=config, label=label, metric=ACCURACY_METRIC, kind="accuracy", unit=name,
              base=stats.median([f["metric"] for f in base]), new=stats.median([f["metric"] for f in new]),
              delta=delta, min_effect=threshold, n_base=len(base), n_new=len(new))
    if min(len(base), len(new)) < MIN_SEEDS_FOR_TEST:
        return replace(row, verdict=direction + "?" if direction != "~" else "~",
                        reason=f"untested (< {MIN_SEEDS_FOR_TEST} seeds)" if direction != "~" else "below threshold")
    p = stats.mann_whitney_p(base_skill, new_skill)
    verdict = direction if p < alpha else "~"
    return replace(row, p=p, verdict=verdict, regression=verdict == "worse",
                   reason="" if verdict != "~" else ("below threshold" if direction == "~" else "not significant"))


def _settings_diff(base_case: dict[str, Any], new_case: dict[str, Any]) -> list[str]:
    old, now = base_case.get("settings") or {}, new_case.get("settings") or {}
    return sorted(k for k in set(old) | set(now) if old.get(k) != now.get(k))


def _match(base: dict[str, Any], new: dict[str, Any], out: Comparison) -> list[tuple[dict[str, Any], dict[str, Any]]]:
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
        unusable = [f"{side} {c['status']}" for side, c in (("BASE", base_case), ("NEW", new_case))
                    if c.get("status") not in ("ok", "diverged")]
        differing = _settings_diff(base_case, new_case)
        if unusable:
            out.not_compared.append((cid, ", ".join(unusable)))
        elif differing:
            out.not_compared.append((cid, f"settings differ: {', '.join(differing)}"))
        else:
            pairs.append((base_case, new_case))
    return pairs


def _scales(base: dict[str, Any], new: dict[str, Any], out: Comparison) -> tuple[float, float]:
    base_ref, new_ref = reference_ms(base), reference_ms(new)
    if base_ref and new_ref:
        out.machine_ratio = new_ref / base_ref
    if not out.options.normalize:
        return 1.0, 1.0
    missing = [name for name, ref in ((out.base_name, base_ref), (out.new_name, new_ref)) if not ref]
    if missing:
        raise CompareError(f"--normalize: {missing[0]} has no reference matmul time (reference.start.matmul_ms)")
    out.notes.append(f"normalized: every timing divided by its run's reference matmul time "
                     f"(BASE {base_ref:.3g} ms, NEW {new_ref:.3g} ms)")
    return base_ref, new_ref


def _notes(base: dict[str, Any], new: dict[str, Any], out: Comparison) -> None:
    for side, doc in (("BASE", base), ("NEW", new)):
        factor = doc["env"].get("test_slowdown")
        if factor:
            out.notes.append(f"{side} is a padded test run (RNNBENCH_TEST_SLOWDOWN={factor}): not a real measurement")
        if doc.get("status") not in (None, "complete"):
            out.notes.append(f"{side} is {doc.get('status')}: not every case ran")
    ignored = {"thresholds", "description"}
    differing = sorted(k for k in set(base["suite"]) | set(new["suite"])
                       if k not in ignored and base["suite"].get(k) != new["suite"].get(k))
    if differing:
        out.notes.append(f"the suite definition changed ({', '.join(differing)}): matched cases with other settings are not compared")
    if base["suite"].get("thresholds") != new["suite"].get("thresholds"):
        out.notes.append("the suite thresholds changed: NEW's are used")


def compare(base: dict[str, Any], new: dict[str, Any], options: CompareOptions = CompareOptions(),
            base_name: str = "BASE", new_name: str = "NEW") -> Comparison:
    """Every metric of every matched configuration, with its verdict; raises CompareError for incomparable inputs."""
    if not 0.0 < options.alpha < 1.0:
        raise CompareError(f"alpha {options.alpha} must be between 0 and 1")
    out = Comparison(base_name, new_name, str(new["suite"].get("name")), options)
    out.env_diffs = check_comparable(base, new, options.allow_env_mismatch)
    out.base_meta, out.new_meta = _meta(base), _meta(new)
    pairs = _match(base, new, out)
    if not pairs:
        raise CompareError(f"{base_name} and {new_name} have no measured case in common")
    scale = _scales(base, new, out)
    _notes(base, new, out)
    configs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for pair in pairs:
        configs.setdefault(config_of(pair[0]["id"]), []).append(pair)
    metrics = {m for b, n in pairs for m in timing_samples(b)} | {SOLVE_METRIC, ACCURACY_METRIC}
    thresholds = resolve_thresholds(new["suite"].get("thresholds") or {}, metrics)
    limit = lambda metric: threshold_for(metric, thresholds, options.threshold)  # noqa: E731
    for config, group in configs.items():
        label = group[0][1].get("label", group[0][1]["arch"])
        base_timings = [(b["id"], timing_samples(b)) for b, _ in group]
        new_timings = [(n["id"], timing_samples(n)) for _, n in group]
        for metric, (unit, batch, _) in base_timings[0][1].items():
            base_seeds = [(cid, t[metric][2]) for cid, t in base_timings if metric in t]
            new_seeds = [(cid, t[metric][2]) for cid, t in new_timings if metric in t]
            if base_seeds and new_seeds:
                out.rows.append(timing_row(config, label, metric, unit, batch, base_seeds, new_seeds, scale,
                                           limit(metric), options.alpha))
        ok = [(b, n) for b, n in group]
        solve = ([c["train"]["ms_to_solve"] for c, _ in ok if c["status"] == "ok" and (c.get("train") or {}).get("ms_to_solve") is not None],
                 [c["train"]["ms_to_solve"] for _, c in ok if c["status"] == "ok" and (c.get("train") or {}).get("ms_to_solve") is not None])
        if solve[0] or solve[1]:
            out.rows.append(solve_row(config, label, solve[0], solve[1], (len(group), len(group)), scale,
                                      limit(SOLVE_METRIC), options.alpha))
        finals = ([_final(b) for b, _ in group], [_final(n) for _, n in group])
        finals = ([f for f in finals[0] if f], [f for f in finals[1] if f])
        if finals[0] and finals[1]:
            out.rows.append(accuracy_row(config, label, finals[0], finals[1], limit(ACCURACY_METRIC), options.alpha))
        diverged = [c["id"] for pair in group for c in pair if c["status"] == "diverged"]
        if diverged:
            out.notes.append(f"diverged (timings compared, accuracy not): {', '.join(diverged)}")
    out.geomeans = _geomeans(out.rows)
    return out


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    env = doc["env"]
    return {"git_sha": env.get("git_sha"), "started_at": doc.get("started_at"), "rnnbench_version": doc.get("rnnbench_version"),
            "device_name": env.get("device_name"), "torch": env.get("torch"), "test_slowdown": env.get("test_slowdown")}


def _final(case: dict[str, Any]) -> dict[str, Any] | None:
    final = (case.get("train") or {}).get("final") or {}
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
        raise CompareError(f"{directory}: no complete results file to compare (run a suite first, or name BASE and NEW)")
    found.sort()
    suite = found[-1][1]
    same = [path for _, name, path in found if name == suite]
    if len(same) < 2:
        raise CompareError(f"{directory}: only one complete results file of suite {suite!r} ({same[0]}); need two")
    return same[-2], same[-1]
