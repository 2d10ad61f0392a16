"""Regression tests built from the counterexamples of the statistics audit (issue 16)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnbench import stats
from rnnbench.compare import rows


def test_item1_ratio_ci_fallback_is_no_interval():
    ratio, low, high = stats.ratio_ci([10, 10.5, 11], [11.5, 12, 12.5])
    assert ratio == pytest.approx(12 / 10.5)
    assert low <= 1.0 <= high  # p = 0.1: the interval must not exclude 1
    assert (low, high) == (0.0, math.inf)


def test_item2_ties_interval_and_test_agree_on_the_counterexample():
    base, new = [2, 4, 2, 2, 3, 3, 1, 2, 3], [5, 5, 3, 4, 2, 5, 3, 2, 4]
    _, low, high = stats.ratio_ci(base, new)
    p = stats.ratio_test_p(base, new)
    assert (p < 0.05) == (not low <= 1.0 <= high)


def test_item2_ties_interval_and_test_agree_on_random_tied_cases():
    rng = np.random.default_rng(16)
    for _ in range(60):
        base = rng.integers(1, 6, size=int(rng.integers(5, 10))).astype(float)
        new = (rng.integers(1, 6, size=int(rng.integers(5, 10))) + rng.integers(0, 2)).astype(float)
        _, low, high = stats.ratio_ci(base, new)
        p = stats.ratio_test_p(base, new)
        assert (p < 0.05) == (not low <= 1.0 <= high), (base, new, p, low, high)


@pytest.mark.parametrize(("n", "coverage"), [(3, 0.75), (5, 0.9375), (6, 0.96875)])
def test_item3_ci_median_states_its_true_coverage(n, coverage):
    assert stats.ci_median_coverage(n) == pytest.approx(coverage)
    assert stats.summarize([float(x) for x in range(1, n + 1)])["ci_coverage"] == pytest.approx(coverage)


def test_item4_three_seeds_cannot_gate_and_say_so():
    assert stats.min_two_sided_p(3, 3) == pytest.approx(0.1)
    assert stats.samples_needed(0.01) == 5
    verdict, reason = rows._seed_verdict("slower", 0.1, 0.01, 0.05, (3, 3))
    assert verdict == "slower?"
    assert reason == "3 seeds: cannot gate; 5 needed"
    # with enough seeds the test decides as before
    assert rows._seed_verdict("slower", 0.004, 0.01, 0.05, (5, 5)) == ("slower", "")
    assert rows._seed_verdict("slower", 0.2, 0.01, 0.05, (5, 5)) == ("~", "p ≥ α")
