"""What a comparison is: its options, its result (rows, notes, what was not compared), and its one error type."""

from __future__ import annotations

import fnmatch
import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from rnnbench.compare.numerics import NumericsJson
from rnnbench.compare.rows import DEFAULT_THRESHOLD, Row

DEFAULT_ALPHA = 0.01


class CompareError(Exception):
    """Inputs that cannot be compared (different suites, environments, bad thresholds); one line."""


class RunMeta(TypedDict, total=False):
    """Which run a side is (shown in the header, and in the JSON export's `base` and `new`)."""

    git_sha: str | None
    started_at: str | None
    rnnbench_version: str | None
    device_name: str | None
    torch: str | None
    test_slowdown: float | None


@dataclass(frozen=True)
class CompareOptions:
    alpha: float = DEFAULT_ALPHA  # significance level of every test; CIs are at 1 - alpha
    threshold: float = DEFAULT_THRESHOLD  # minimum effect, a fraction; suite `thresholds:` override per metric
    normalize: bool = False  # divide each timing by its run's reference matmul time
    allow_env_mismatch: bool = False  # compare across device / torch / dtype anyway


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
    base_meta: RunMeta = field(default_factory=lambda: RunMeta())  # git_sha, started_at, rnnbench_version of each run
    new_meta: RunMeta = field(default_factory=lambda: RunMeta())
    numerics: NumericsJson = field(
        default_factory=lambda: NumericsJson()
    )  # ab: the outputs check (compare/output_check.py)

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.regression]

    @property
    def resolution(self) -> float | None:
        """The smallest change this comparison can call, median over the timings: minimum effect and machine change."""
        machine = abs(math.log(self.machine_ratio)) if self.machine_ratio else 0.0
        effects = [math.expm1(math.log1p(row.min_effect) + machine) for row in self.rows if row.kind == "timing"]
        # statistics.median, not stats.median: a row that cannot bound a change has an infinite minimum effect
        return statistics.median(effects) if effects else None

    @property
    def too_noisy(self) -> bool:
        """True when most timings could not resolve a change of twice the threshold: a pass vouches for little."""
        return self.resolution is not None and self.resolution > 2 * max(self.options.threshold, 0.01)


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
