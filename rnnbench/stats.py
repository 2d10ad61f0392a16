"""Pure statistics on lists of timings: robust summaries, confidence intervals, two-sample tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import special

# scipy.stats is imported inside the tests that need it: it takes ~1.2 s to import, which every
# worker and timing process would pay at start-up, while the timer's stop rule needs only the
# binomial CDF from scipy.special (~0.3 s).

# Bisection steps when inverting the Mann-Whitney test for `ratio_ci`; 80 halvings of the
# log-ratio range reach float resolution, so the bounds are exact to printing precision.
_BISECTION_STEPS = 80
# `ratio_ci` stops bisecting once its bracket is this fraction of the data's log span: far below printing precision,
# and about half the steps, each of which is a scipy test
_BRACKET_RESOLUTION = 2.0**-45


def _as_array(xs: Sequence[float], *, name: str = "xs") -> np.ndarray:
    array = np.asarray(xs, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains a non-finite value")
    return array


def _as_positive_array(xs: Sequence[float], *, name: str = "xs") -> np.ndarray:
    array = _as_array(xs, name=name)
    if np.any(array <= 0):
        raise ValueError(f"{name} must be positive (durations, ratios)")
    return array


def median(xs: Sequence[float]) -> float:
    """Sample median (mean of the two middle values for an even count)."""
    return float(np.median(_as_array(xs)))


def iqr(xs: Sequence[float]) -> float:
    """Interquartile range Q3 - Q1, quartiles by linear interpolation (numpy's default, R type 7)."""
    q1, q3 = np.percentile(_as_array(xs), [25, 75])
    return float(q3 - q1)


@lru_cache(maxsize=4096)
def ci_median_ranks(n: int, confidence: float = 0.95) -> tuple[int, int]:
    """1-based ranks (k, n + 1 - k) of the order statistics bounding the median's CI.

    The interval [x_(k), x_(n+1-k)] covers the population median with probability
    1 - 2 P(B <= k - 1), B ~ Binomial(n, 1/2), whatever the distribution (continuous).
    k is the largest rank whose coverage is still >= `confidence`. Below that many
    samples (n <= 5 at 95 %) no pair of order statistics reaches it, and the widest
    interval, (min, max) with k = 1, is returned.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    alpha = 1.0 - confidence
    # largest k - 1 = j with P(B <= j) <= alpha / 2 (B ~ Binomial(n, 1/2)); -1 when even P(B = 0) exceeds it
    cdf = special.bdtr(np.arange(n + 1), n, 0.5)
    j = int(np.searchsorted(cdf, alpha / 2.0, side="right")) - 1
    k = max(1, j + 1)
    return k, n + 1 - k


def ci_median(xs: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    See `ci_median_ranks`: with n = 10 at 95 % the interval is [x_(2), x_(9)]
    (coverage 1 - 2 * 11/1024 = 97.9 %). No assumption on the shape of the timing
    distribution, which is skewed and often multi-modal.
    """
    array = np.sort(_as_array(xs))
    low_rank, high_rank = ci_median_ranks(array.size, confidence)
    return float(array[low_rank - 1]), float(array[high_rank - 1])


def mean_std(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1; 0.0 for a single sample)."""
    array = _as_array(xs)
    std = float(np.std(array, ddof=1)) if array.size > 1 else 0.0
    return float(np.mean(array)), std


def geomean(xs: Sequence[float]) -> float:
    """Geometric mean of positive values (the right mean for ratios)."""
    return float(np.exp(np.mean(np.log(_as_positive_array(xs)))))


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value (scipy: exact for small samples without ties, else normal approximation)."""
    from scipy import stats as scipy_stats

    result = scipy_stats.mannwhitneyu(_as_array(a, name="a"), _as_array(b, name="b"), alternative="two-sided")
    return float(result.pvalue)


def _count_pairs_at_most(sorted_new: np.ndarray, base: np.ndarray, shift: float) -> int:
    """Number of pairs (i, j) with new_j - base_i <= shift."""
    return int(np.searchsorted(sorted_new, base + shift, side="right").sum())


def _hodges_lehmann_shift(log_base: np.ndarray, log_new: np.ndarray) -> float:
    """Median of all pairwise differences log_new_j - log_base_i, without building the n*m array."""
    sorted_new = np.sort(log_new)
    half = (log_base.size * log_new.size + 1) / 2.0
    low, high = float(sorted_new[0] - log_base.max()), float(sorted_new[-1] - log_base.min())
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2.0
        if _count_pairs_at_most(sorted_new, log_base, middle) >= half:
            high = middle
        else:
            low = middle
    return high


def ratio_ci(base: Sequence[float], new: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Ratio of medians new/base with a distribution-free confidence interval: (ratio, low, high).

    The interval is the Hodges-Lehmann (Moses) interval for a shift in log time,
    exponentiated: the set of factors r such that the two-sided Mann-Whitney test
    does not reject "new / r and base come from the same distribution" at level
    1 - confidence. It is found by inverting `mann_whitney_p` by bisection, so the
    interval excludes 1 exactly when the test is significant at that level - compare's
    CI and p-value can never disagree. Working in log time makes it a ratio, fitting
    timings whose spread scales with their size. A side the test can never reject on
    (3 vs 3 at any level, 3 vs 4 at 95 %) is unbounded: low 0.0 or high inf, which the
    renderers show as "too few to bound" - never the range of pairwise ratios, which
    would exclude 1 while p >= alpha. Ties are handled in the test and the interval alike
    (`_shift_p`): a shift that lands exactly on a tie is judged with its neighbours, and
    the interval is widened or cut at 1 so that it excludes 1 exactly when
    `ratio_test_p` < 1 - confidence.
    The point estimate is the plain ratio of medians, which readers expect; under a
    change of scale it sits inside the interval, but between differently shaped
    distributions it can fall just outside it.
    """
    base_array = _as_positive_array(base, name="base")
    new_array = _as_positive_array(new, name="new")
    ratio = float(np.median(new_array) / np.median(base_array))
    log_base, log_new = np.log(base_array), np.log(new_array)
    alpha = 1.0 - confidence

    def accepted(shift: float) -> bool:
        return _shift_p(log_base, log_new, shift) >= alpha

    center = _hodges_lehmann_shift(log_base, log_new)
    # just outside the range of pairwise differences the U statistic is 0 or n*m: the test's extremes
    span = float(log_new.max() - log_new.min() + log_base.max() - log_base.min()) + 1e-12
    outer_low = float(log_new.min() - log_base.max()) - span * 1e-6
    outer_high = float(log_new.max() - log_base.min()) + span * 1e-6

    def boundary(inside: float, outside: float, extreme: float) -> float:
        if accepted(outside):
            return extreme  # the test cannot reject on this side: unbounded
        for _ in range(_BISECTION_STEPS):
            if abs(outside - inside) <= span * _BRACKET_RESOLUTION:
                break
            middle = (inside + outside) / 2.0
            if accepted(middle):
                inside = middle
            else:
                outside = middle
        return inside

    low = boundary(center, outer_low, -math.inf)
    high = boundary(center, outer_high, math.inf)
    # one procedure: the interval excludes shift 0 (ratio 1) exactly when the test at 0 rejects
    if accepted(0.0):
        low, high = min(low, 0.0), max(high, 0.0)
    elif low <= 0.0 <= high:
        if center > 0.0:
            low = _tie_step(log_base, log_new)
        else:
            high = -_tie_step(log_base, log_new)
    return ratio, float(math.exp(low)), float(math.exp(high))


def _tie_step(log_base: np.ndarray, log_new: np.ndarray) -> float:
    """A shift far below the data's resolution, used to look at both sides of a tie."""
    span = float(np.ptp(np.concatenate([log_base, log_new]))) + 1.0
    return span * 1e-12


def _shift_p(log_base: np.ndarray, log_new: np.ndarray, shift: float) -> float:
    """Mann-Whitney p for "log_new - shift and log_base are one distribution", ties resolved conservatively.

    Where the shift makes values tie, the tie-corrected p can be smaller than on both sides
    of it, which makes the set of accepted shifts non-convex and lets an interval contain
    1 while p < alpha. Taking the largest p of the shift and its two immediate neighbours
    gives the test and the interval one rule.
    """
    step = _tie_step(log_base, log_new)
    sorted_new = np.sort(log_new)
    if _count_pairs_at_most(sorted_new, log_base, shift + 2 * step) == _count_pairs_at_most(
        sorted_new, log_base, shift - 2 * step
    ):
        return mann_whitney_p(list(log_base), list(log_new - shift))  # no tie near: the three tests are one
    return max(mann_whitney_p(list(log_base), list(log_new - (shift + d))) for d in (0.0, -step, step))


def ratio_test_p(base: Sequence[float], new: Sequence[float]) -> float:
    """Two-sided p of "new and base differ by a factor", the test `ratio_ci` inverts (same tie rule)."""
    log_base = np.log(_as_positive_array(base, name="base"))
    log_new = np.log(_as_positive_array(new, name="new"))
    return _shift_p(log_base, log_new, 0.0)


def min_two_sided_p(n: int, m: int) -> float:
    """Smallest two-sided Mann-Whitney p reachable with n and m samples: 2 / C(n + m, n) (no ties)."""
    if n < 1 or m < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(n + m, n))


def samples_needed(alpha: float) -> int:
    """Smallest n such that n vs n can reach p < alpha with the two-sided Mann-Whitney test."""
    n = 1
    while min_two_sided_p(n, n) >= alpha:
        n += 1
    return n


def ci_median_coverage(n: int, confidence: float = 0.95) -> float:
    """True coverage of `ci_median` at n samples: 1 - 2 P(B <= k - 1), B ~ Binomial(n, 1/2).

    Below n = 6 at 95 % it is under the level (n = 5: 93.75 %, n = 3: 75 %); label such an
    interval by this coverage, or as the sample range, never as "95 % CI".
    """
    k, _ = ci_median_ranks(n, confidence)
    return float(1.0 - 2.0 * special.bdtr(k - 1, n, 0.5))


def is_unstable(xs: Sequence[float], threshold: float = 0.10) -> bool:
    """True when the spread is large for a timing: IQR / median > threshold."""
    middle = median(xs)
    return middle <= 0 or iqr(xs) / middle > threshold


def relative_ci_half_width(xs: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the median's CI over the median; the adaptive timer's stop criterion."""
    low, high = ci_median(xs, confidence)
    middle = median(xs)
    if middle <= 0:
        return math.inf
    return (high - low) / 2.0 / middle


def summarize(samples_ms: Sequence[float]) -> dict:
    """The summary stored for every timing in the results file (all values in milliseconds)."""
    samples = [float(x) for x in samples_ms]
    mean, std = mean_std(samples)
    low, high = ci_median(samples)
    return {
        "samples": samples,
        "n": len(samples),
        "median": median(samples),
        "iqr": iqr(samples),
        "ci95": [low, high],
        # below 6 samples the interval is the sample range and covers less than 95 %
        "ci_coverage": ci_median_coverage(len(samples)),
        "mean": mean,
        "std": std,
        "unstable": is_unstable(samples),
    }


# --- paired statistics (interleaved timings: one log-ratio per round) --------------------------


def paired_log_ratios(base: Sequence[float], new: Sequence[float]) -> np.ndarray:
    """log(new_i / base_i) per round; the two sample lists must be round-aligned (same length)."""
    b, n = _as_positive_array(base, name="base"), _as_positive_array(new, name="new")
    if b.size != n.size:
        raise ValueError(f"paired samples must be round-aligned: {b.size} base vs {n.size} new")
    return np.log(n) - np.log(b)


def paired_ratio_ci(
    base: Sequence[float], new: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """(ratio, low, high, p) for new/base from round-aligned samples.

    The ratio is exp(median of per-round log-ratios); the interval is the sign-test interval of
    that median (order statistics, distribution-free: `ci_median`), so slow drift that moves both
    members of a round together cancels. p is the two-sided Wilcoxon signed-rank p-value
    (scipy) of the log-ratios against 0 (1.0 when every log-ratio is 0).
    """
    d = paired_log_ratios(base, new)
    low, high = ci_median(d.tolist(), confidence)
    nonzero = d[d != 0]
    from scipy import stats as scipy_stats

    p = float(scipy_stats.wilcoxon(nonzero).pvalue) if nonzero.size > 0 else 1.0
    return float(np.exp(np.median(d))), float(np.exp(low)), float(np.exp(high)), p


def _unit_medians(per_unit_log_ratios: Sequence[Sequence[float]]) -> np.ndarray:
    """Each unit's (process's, process pair's) median log-ratio: the observations of a ratio across units."""
    return np.array([float(np.median(_as_array(d, name="log_ratios"))) for d in per_unit_log_ratios])


def process_ratio_ci(
    per_process_log_ratios: Sequence[Sequence[float]], confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """(ratio, low, high, p) across the processes a run timed a group in: each process's median log-ratio is one unit.

    The estimate is the median of the process medians, the interval its sign-test interval
    (`ci_median`, order statistics) and p the two-sided sign test (scipy's binomtest) of the
    process medians against 0: one procedure, so the interval excludes 1 exactly when p < α.
    A process in an odd state (a fused LSTM step can run markedly slower in one process than in
    the next) moves the median little where it would drag a mean. Where
    the processes are too few for the level (below 6 at 95 %: 5 give 93.75 %, and can never
    reach p < 0.05), the interval is unbounded: too few to bound.
    """
    medians = _unit_medians(per_process_log_ratios)
    if medians.size == 0:
        raise ValueError("process_ratio_ci needs at least one process")
    center = float(np.exp(np.median(medians)))
    nonzero = medians[medians != 0]
    positive = int(np.sum(nonzero > 0))
    from scipy import stats as scipy_stats

    p = float(scipy_stats.binomtest(positive, nonzero.size, 0.5).pvalue) if nonzero.size else 1.0
    if ci_median_coverage(medians.size, confidence) < confidence:
        return center, 0.0, math.inf, p
    low, high = ci_median(medians.tolist(), confidence)
    return center, float(np.exp(low)), float(np.exp(high)), p


def hierarchical_ratio_ci(
    per_pair_log_ratios: Sequence[Sequence[float]], confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """(ratio, low, high, p) across process pairs: each pair's median log-ratio is one observation.

    A process carries a bias of its own, so the pair, not the sample, is the unit: the estimate is
    the mean of pair medians, the interval Student's t over pairs (k >= 2; it holds within-pair
    noise and process-to-process spread both, since each pair median carries both). One odd
    process widens the interval rather than moving a verdict: a trimmed (Yuen) t would stay
    narrow, but it covers only 93.9-94.7 % at 5-10 pairs. With k = 1 the interval is unbounded:
    a pair's own rounds cannot see its process bias (its sign-test interval covered 78.8 %).
    """
    medians = _unit_medians(per_pair_log_ratios)
    if medians.size == 0:
        raise ValueError("hierarchical_ratio_ci needs at least one process pair")
    if medians.size == 1:  # its rounds cannot see its own process bias (78.8 % coverage at 3 % bias): unbounded
        return float(np.exp(medians[0])), 0.0, math.inf, 1.0
    center = float(np.mean(medians))
    sem = float(np.std(medians, ddof=1) / np.sqrt(medians.size))
    if sem == 0.0:
        return float(np.exp(center)), float(np.exp(center)), float(np.exp(center)), 1.0 if center == 0 else 0.0
    from scipy import stats as scipy_stats

    t = float(scipy_stats.t.ppf(0.5 + confidence / 2.0, medians.size - 1))
    p = float(scipy_stats.ttest_1samp(medians, 0.0).pvalue)
    return float(np.exp(center)), float(np.exp(center - t * sem)), float(np.exp(center + t * sem)), p
