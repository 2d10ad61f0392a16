"""What a comparison is: its options, its result (rows, notes, what was not compared), and its one error type."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rnnbench import stats
from rnnbench.compare.rows import DEFAULT_THRESHOLD, Row

DEFAULT_ALPHA = 0.01


class CompareError(Exception):
    """Inputs that cannot be compared (different suites, environments, bad thresholds); one line."""


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
    base_meta: dict[str, Any] = field(default_factory=dict)  # git_sha, started_at, rnnbench_version of each run
    new_meta: dict[str, Any] = field(default_factory=dict)

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.regression]

    @property
    def resolution(self) -> float | None:
        """The smallest change this comparison can call, median over the timings: minimum effect and machine change."""
        machine = abs(math.log(self.machine_ratio)) if self.machine_ratio else 0.0
        effects = [math.expm1(math.log1p(row.min_effect) + machine) for row in self.rows if row.kind == "timing"]
        return stats.median(effects) if effects else None

    @property
    def too_noisy(self) -> bool:
        """True when most timings could not resolve a change of twice the threshold: a pass vouches for little."""
        return self.resolution is not None and self.resolution > 2 * max(self.options.threshold, 0.01)
