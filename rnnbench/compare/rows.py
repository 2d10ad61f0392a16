"""One metric of one configuration, BASE against NEW: its ratio, CI, p-value and verdict (torch-free).

A timing counts as slower (or faster) only when all of these hold:

1. significant: two-sided Mann-Whitney p < alpha on the raw samples, seeds pooled;
2. beyond its minimum effect: the ratio of medians NEW/BASE is past 1 + threshold
   (default 5 %, per-metric overrides in the suite's `thresholds:`), and past the
   timing's own noise: the interquartile range of its log samples (a machine whose
   contention comes and goes moves the median within that range between two runs
   with no change in the code), plus the reference kernel's drift from the start to
   the end of each run;
3. not the machine's: past that minimum effect both raw and divided by the change of
   the reference kernel's time between the runs (normalized), since a timing scales
   with the machine somewhere between not at all and exactly like that kernel;
4. reproduced: every seed - a timing block measured at its own moment of the run -
   is past that minimum effect on its own: a load burst hits one block, a code change all.

Per-seed quantities (time to solve, final metric) are compared across seeds, tested
only with MIN_SEEDS_FOR_TEST seeds or more on each side, and never gate otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from rnnbench import stats
from rnnbench.results.records import FinalJson

DEFAULT_THRESHOLD = 0.05
MIN_SEEDS_FOR_TEST = 3
SOLVE_METRIC, ACCURACY_METRIC = "time_to_solve", "final_metric"


@dataclass(frozen=True)
class Row:
    """One metric of one configuration (a case id without its seed), seeds pooled."""

    config: str
    label: str
    metric: str
    kind: str  # timing | solve | accuracy | numerics (ab: outputs that changed, no ratio)
    unit: str  # ms, seq/s, or the task's metric name
    base: float | None  # median as measured (not normalized)
    new: float | None
    ratio: float | None = None  # NEW/BASE duration (> 1: slower; throughput is inverted), normalized if asked
    ci: tuple[float, float] | None = None  # (1 - alpha) interval of the ratio; excludes 1 exactly when p < alpha
    delta: float | None = None  # accuracy: NEW - BASE skill, as a fraction of chance-to-perfect (> 0: better)
    p: float | None = None
    min_effect: float = (
        DEFAULT_THRESHOLD  # the threshold in force; for timings raised to the noise (spread, normalizer)
    )
    verdict: str = "~"  # faster | slower | better | worse | ~ ; a trailing "?" means untested (too few seeds)
    regression: bool = False
    reason: str = ""  # why a change is "~" or untested
    n_base: int = 0
    n_new: int = 0
    seeds: tuple[tuple[str, float], ...] = ()  # (case id, its own ratio) per seed


@dataclass(frozen=True)
class Scale:
    """The two runs' machines by the reference kernel, and which view of the timings is shown.

    A timing scales with the machine somewhere between not at all and exactly like the
    reference kernel, so a change counts only when it holds in both views: the raw ratio
    and the ratio divided by the machine's (normalized). --normalize picks the one shown.
    """

    base: float = 1.0  # what BASE timings are divided by for the shown view (its reference time under --normalize)
    new: float = 1.0
    machine: float = 1.0  # NEW/BASE reference time; 1.0 when unknown
    noise: float = 0.0  # the reference's drift within the runs, log units: the machine's own unsteadiness

    @property
    def normalized(self) -> bool:
        return (self.base, self.new) != (1.0, 1.0)

    def other_view(self, ratio: float) -> float:
        """The same ratio in the view not shown: raw -> normalized divides by the machine ratio, and back."""
        return ratio * self.machine if self.normalized else ratio / self.machine


def _log_iqr(xs: list[float]) -> float:
    q1, q3 = np.percentile(np.log(xs), [25, 75])
    return float(q3 - q1)


def decided_timing_row(
    config: str,
    label: str,
    metric: str,
    *,
    unit: str,
    batch: int | None,
    samples: tuple[list[float], list[float]],
    estimate: tuple[float, float, float, float],
    min_effect: float,
    verdict: str,
    reason: str,
    seeds: tuple[tuple[str, float], ...] = (),
) -> Row:
    """A timing row from both sides' samples (ms; shown as seq/s where `batch` is set), (ratio, low, high, p)
    and the decision: the one place that turns a timing decision into a Row (compare and ab)."""
    base_all, new_all = samples
    ratio, low, high, p = estimate

    def shown(ms: float) -> float:
        return batch / ms * 1e3 if batch else ms

    return Row(
        config=config,
        label=label,
        metric=metric,
        kind="timing",
        unit=unit,
        base=shown(stats.median(base_all)),
        new=shown(stats.median(new_all)),
        ratio=ratio,
        ci=(low, high),
        p=p,
        min_effect=min_effect,
        verdict=verdict,
        regression=verdict == "slower",
        reason=reason,
        n_base=len(base_all),
        n_new=len(new_all),
        seeds=seeds,
    )


def _direction(ratio: float, limit: float) -> str:
    """slower / faster when the ratio is past 1 + limit (log-symmetric), else ~."""
    return "slower" if ratio > 1.0 + limit else ("faster" if ratio < 1.0 / (1.0 + limit) else "~")


def _machine_reason(ratio: float, limit: float, scale: Scale) -> str | None:
    """Why a change past `limit` is still not the code's: in the other view it is not past it."""
    if _direction(scale.other_view(ratio), limit) == _direction(ratio, limit):
        return None
    return f"machine ×{scale.machine:.2f}"


def timing_row(
    config: str,
    label: str,
    metric: str,
    unit: str,
    batch: int | None,
    base_seeds: list[tuple[str, list[float]]],
    new_seeds: list[tuple[str, list[float]]],
    scale: Scale,
    threshold: float,
    alpha: float,
) -> Row:
    """One timing, seeds pooled; see the module docstring for when it counts as slower or faster."""
    base_all = [x for _, xs in base_seeds for x in xs]
    new_all = [x for _, xs in new_seeds for x in xs]
    base_scaled = [x / scale.base for x in base_all]
    new_scaled = [x / scale.new for x in new_all]
    ratio, low, high = stats.ratio_ci(base_scaled, new_scaled, confidence=1.0 - alpha)
    p = stats.ratio_test_p(base_scaled, new_scaled)  # the test ratio_ci inverts: CI and p agree, ties included
    spread = max(_log_iqr(base_all), _log_iqr(new_all))
    min_effect = math.expm1(max(math.log1p(threshold), spread) + scale.noise)
    new_by_case = dict(new_seeds)
    per_seed = tuple(
        (case, (stats.median(new_by_case[case]) / scale.new) / (stats.median(xs) / scale.base))
        for case, xs in base_seeds
        if case in new_by_case
    )
    direction, reason = _direction(ratio, min_effect), ""
    if p >= alpha:
        direction, reason = "~", "p ≥ α"
    elif direction == "~":
        reason = f"< {threshold:.0%}" if _direction(ratio, threshold) == "~" else f"noise ±{min_effect:.0%}"
    elif (machine := _machine_reason(ratio, min_effect, scale)) is not None:
        direction, reason = "~", machine
    elif len(per_seed) > 1 and any(_direction(r, min_effect) != direction for _, r in per_seed):
        direction, reason = "~", "seeds disagree"
    return decided_timing_row(
        config,
        label,
        metric,
        unit=unit,
        batch=batch,
        samples=(base_all, new_all),
        estimate=(ratio, low, high, p),
        min_effect=min_effect,
        verdict=direction,
        reason=reason,
        seeds=per_seed,
    )


def _seed_verdict(
    direction: str, p: float | None, alpha: float, threshold: float, n: tuple[int, int] = (0, 0)
) -> tuple[str, str]:
    """(verdict, reason) of a change measured across seeds: untested below MIN_SEEDS_FOR_TEST seeds a side,
    and said to be ungateable when even the most extreme ranking of n seeds could not reach p < alpha."""
    if direction == "~":
        return "~", f"< {threshold:.0%}"
    if p is None:
        return direction + "?", f"untested: < {MIN_SEEDS_FOR_TEST} seeds"
    if stats.min_two_sided_p(*n) >= alpha:
        # 3 vs 3 seeds: the smallest two-sided p is 0.1; printing "~ p ≥ α" would pass a 5x slowdown as no change
        return direction + "?", f"{min(n)} seeds: cannot gate; {stats.samples_needed(alpha)} needed"
    return (direction, "") if p < alpha else ("~", "p ≥ α")


def solve_row(
    config: str,
    label: str,
    base: list[float],
    new: list[float],
    n_seeds: tuple[int, int],
    scale: Scale,
    threshold: float,
    alpha: float,
) -> Row:
    """Time to solve across the seeds that solved: medians always, a test only with enough seeds on both sides."""
    solved = f"solved {len(base)}/{n_seeds[0]} → {len(new)}/{n_seeds[1]}"
    row = Row(
        config=config,
        label=label,
        metric=SOLVE_METRIC,
        kind="solve",
        unit="ms",
        base=stats.median(base) if base else None,
        new=stats.median(new) if new else None,
        min_effect=threshold,
        n_base=len(base),
        n_new=len(new),
        reason=solved,
    )
    if not base or not new:
        return row
    base_scaled, new_scaled = [x / scale.base for x in base], [x / scale.new for x in new]
    p = ci = None
    ratio = stats.median(new_scaled) / stats.median(base_scaled)
    if min(len(base), len(new)) >= MIN_SEEDS_FOR_TEST:
        ratio, low, high = stats.ratio_ci(base_scaled, new_scaled, confidence=1.0 - alpha)
        p, ci = stats.ratio_test_p(base_scaled, new_scaled), (low, high)
    verdict, reason = _seed_verdict(_direction(ratio, threshold), p, alpha, threshold, (len(base), len(new)))
    if verdict in ("slower", "faster") and (machine := _machine_reason(ratio, threshold, scale)) is not None:
        verdict, reason = "~", machine
    return replace(
        row,
        ratio=ratio,
        ci=ci,
        p=p,
        verdict=verdict,
        regression=verdict == "slower",
        reason=f"{reason}; {solved}" if reason else solved,
    )


def skill(final: FinalJson) -> float:
    """The final metric as a share of the way from chance (0) to perfect (1): a drop reads alike for mse and accuracy."""
    value = final["metric"]
    if value is None:
        raise TypeError("the final metric is null")  # callers pass finals that have one
    metric, chance, higher = float(value), final.get("chance"), bool(final.get("higher_is_better", True))
    ideal = 1.0 if higher else 0.0
    if chance is None or chance == ideal:
        return metric if higher else -metric
    return (metric - chance) / (ideal - chance)


def _metrics(finals: list[FinalJson]) -> list[float]:
    return [m for f in finals if (m := f["metric"]) is not None]  # skill() has refused a null one


def accuracy_row(
    config: str, label: str, base: list[FinalJson], new: list[FinalJson], threshold: float, alpha: float
) -> Row:
    """Final metric across seeds; a drop of more than `threshold` of the chance-to-perfect span is worse."""
    base_skill, new_skill = [skill(f) for f in base], [skill(f) for f in new]
    delta = stats.median(new_skill) - stats.median(base_skill)
    direction = "worse" if delta < -threshold else ("better" if delta > threshold else "~")
    tested = min(len(base), len(new)) >= MIN_SEEDS_FOR_TEST
    p = stats.mann_whitney_p(base_skill, new_skill) if tested else None
    verdict, reason = _seed_verdict(direction, p, alpha, threshold, (len(base), len(new)))
    return Row(
        config=config,
        label=label,
        metric=ACCURACY_METRIC,
        kind="accuracy",
        unit=str((new or base)[0].get("metric_name", "metric")),
        base=stats.median(_metrics(base)),
        new=stats.median(_metrics(new)),
        delta=delta,
        p=p,
        min_effect=threshold,
        verdict=verdict,
        regression=verdict == "worse",
        reason=reason,
        n_base=len(base),
        n_new=len(new),
    )
