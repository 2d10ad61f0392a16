"""Statistics on fixed data with exact answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnbench import stats


def test_median_odd_and_even():
    assert stats.median([3, 1, 2]) == 2.0
    assert stats.median([4, 1, 3, 2]) == 2.5


def test_iqr_linear_interpolation():
    # type-7 quartiles of 1..8: positions 1.75 and 5.25 -> 2.75 and 6.25
    assert stats.iqr([8, 1, 7, 2, 6, 3, 5, 4]) == pytest.approx(3.5)


@pytest.mark.parametrize(
    ("n", "ranks"),
    [
        (5, (1, 5)),  # too few for 95 %: the widest interval
        (6, (1, 6)),  # 1 - 2/64 = 96.9 %
        (9, (2, 8)),  # 1 - 2*10/512 = 96.1 %
        (10, (2, 9)),  # 1 - 2*11/1024 = 97.9 %
        (100, (40, 61)),  # the textbook pair for n = 100
    ],
)
def test_ci_median_ranks_small_n(n, ranks):
    assert stats.ci_median_ranks(n, 0.95) == ranks


def _coverage(n: int, k: int) -> float:
    """P(x_(k) <= median <= x_(n+1-k)) = 1 - 2 P(Binomial(n, 1/2) <= k - 1), summed exactly."""
    tail = sum(math.comb(n, j) for j in range(k)) / 2**n
    return 1 - 2 * tail


@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_ci_median_ranks_are_the_tightest_with_enough_coverage(confidence):
    for n in range(12, 80):
        k, upper = stats.ci_median_ranks(n, confidence)
        assert upper == n + 1 - k
        assert _coverage(n, k) >= confidence
        assert _coverage(n, k + 1) < confidence


def test_ci_median_picks_order_statistics():
    assert stats.ci_median([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]) == (2.0, 9.0)


def test_mean_std_sample_deviation():
    mean, std = stats.mean_std([2, 4, 4, 4, 5, 5, 7, 9])
    assert mean == 5.0
    assert std == pytest.approx(math.sqrt(32 / 7))
    assert stats.mean_std([3.0]) == (3.0, 0.0)


def test_geomean():
    assert stats.geomean([1, 2, 4]) == pytest.approx(2.0)
    assert stats.geomean([0.5, 2.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        stats.geomean([1.0, 0.0])


@pytest.mark.parametrize(
    ("a", "b", "p"),
    [
        # complete separation, 3 vs 3: 2 orderings of C(6,3) = 20 are this extreme
        ([1, 2, 3], [4, 5, 6], 2 / 20),
        ([1, 2, 3, 4], [5, 6, 7, 8], 2 / 70),
        # U = 3 for 3 vs 3: counts of U = 0..3 are 1, 1, 2, 3 -> P(U <= 3) = 7/20, two-sided 0.7
        ([1, 3, 5], [2, 4, 6], 0.7),
    ],
)
def test_mann_whitney_exact_p_values(a, b, p):
    assert stats.mann_whitney_p(a, b) == pytest.approx(p)
    assert stats.mann_whitney_p(b, a) == pytest.approx(p)


def _mann_whitney_lower_critical(m: int, n: int, alpha: float) -> int:
    """Largest u with P(U <= u) <= alpha/2 under H0, from the exact null distribution (counting arrangements)."""
    # ways[m][n][u]: arrangements of m and n items whose U equals u
    ways = {(0, j): {0: 1} for j in range(n + 1)}
    ways.update({(i, 0): {0: 1} for i in range(m + 1)})
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            counts: dict[int, int] = {}
            for u, c in ways[(i - 1, j)].items():  # largest item is from the first sample: beats all j
                counts[u + j] = counts.get(u + j, 0) + c
            for u, c in ways[(i, j - 1)].items():
                counts[u] = counts.get(u, 0) + c
            ways[(i, j)] = counts
    total = math.comb(m + n, m)
    cumulative, critical = 0, -1
    for u in sorted(ways[(m, n)]):
        cumulative += ways[(m, n)][u]
        if cumulative / total > alpha / 2:
            return critical
        critical = u
    return critical


def test_ratio_ci_is_the_moses_interval_on_log_ratios():
    rng = np.random.default_rng(1)
    base = rng.lognormal(0.0, 0.2, 8)
    new = 1.5 * rng.lognormal(0.0, 0.2, 8)
    critical = _mann_whitney_lower_critical(8, 8, 0.05)
    assert critical == 13  # the published table value for 8 vs 8, two-sided 5 %
    differences = np.sort((np.log(new)[None, :] - np.log(base)[:, None]).ravel())
    ratio, low, high = stats.ratio_ci(base, new)
    assert ratio == pytest.approx(np.median(new) / np.median(base))
    assert low == pytest.approx(math.exp(differences[critical]), rel=1e-9)  # D_(C + 1), 1-based
    assert high == pytest.approx(math.exp(differences[64 - critical - 1]), rel=1e-9)  # D_(nm - C)


def test_ratio_ci_ends_on_the_last_accepted_pairwise_difference_for_large_samples():
    # the normal-approximation path: each end is a pairwise log difference, accepted there and rejected just beyond
    rng = np.random.default_rng(3)
    base, new = rng.lognormal(0.0, 0.05, 200), rng.lognormal(0.02, 0.05, 150)
    log_base, log_new = np.log(base), np.log(new)
    differences = np.unique((log_new[None, :] - log_base[:, None]).ravel())
    _, low, high = stats.ratio_ci(base, new)
    for end, outward in ((math.log(low), -1), (math.log(high), +1)):
        at = int(np.argmin(np.abs(differences - end)))
        assert differences[at] == pytest.approx(end, abs=1e-9)  # neighbours lie ~1e-5 apart
        beyond = (differences[at] + differences[at + outward]) / 2.0
        inside = (differences[at] + differences[at - outward]) / 2.0
        assert stats.mann_whitney_p(base, np.exp(log_new - beyond)) < 0.05
        assert stats.mann_whitney_p(base, np.exp(log_new - inside)) >= 0.05


def test_ratio_ci_agrees_with_the_test():
    rng = np.random.default_rng(2)
    base = rng.lognormal(0.0, 0.05, 30)
    slower = 1.2 * rng.lognormal(0.0, 0.05, 30)
    same = rng.lognormal(0.0, 0.05, 30)
    _, low, high = stats.ratio_ci(base, slower)
    assert 1.0 < low < 1.2 < high
    assert stats.mann_whitney_p(base, slower) < 0.05
    _, low, high = stats.ratio_ci(base, same)
    assert low < 1.0 < high
    assert stats.mann_whitney_p(base, same) >= 0.05


def test_ratio_ci_too_few_samples_is_unbounded():
    # 3 vs 3 can never reach p < 0.05: the data cannot bound the ratio (issue 16 item 1; the old
    # "full range of pairwise ratios" excluded 1 while p >= alpha)
    ratio, low, high = stats.ratio_ci([1, 2, 3], [4, 5, 6])
    assert ratio == pytest.approx(2.5)
    assert (low, high) == (0.0, math.inf)


def test_is_unstable_threshold():
    # quartiles 9.75 and 10.25: IQR / median = 0.05
    assert not stats.is_unstable([9, 10, 10, 11], threshold=0.10)
    assert stats.is_unstable([9, 10, 10, 11], threshold=0.04)


def test_summarize_exact_dict():
    summary = stats.summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    assert set(summary) == {"samples", "n", "median", "iqr", "ci95", "ci_coverage", "mean", "std", "unstable"}
    assert summary["samples"] == [10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0]  # raw order kept
    assert summary["n"] == 10
    assert summary["median"] == 5.5
    assert summary["iqr"] == pytest.approx(4.5)
    assert summary["ci95"] == [2.0, 9.0]
    assert summary["mean"] == 5.5
    assert summary["std"] == pytest.approx(math.sqrt(82.5 / 9))
    assert summary["unstable"] is True


def test_rejects_empty_and_non_finite():
    with pytest.raises(ValueError):
        stats.summarize([])
    with pytest.raises(ValueError):
        stats.median([1.0, float("nan")])
