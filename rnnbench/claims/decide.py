"""The tests a claim's verdict rests on, family-wise over its configurations: signed-rank, Holm, TOST, t (torch-free).

Outcome claims pool every configuration's per-seed paired units into one exact signed-rank
test (the seed is the unit); timing claims take Holm's step-down over the findings' own
p-values; equivalence ("similar") is a two-one-sided t test (TOST). docs/statistics.md says
how many seeds and configurations each needs to be decidable at 95 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as scipy_stats
from scipy.stats import rankdata

# above this many non-zero units the exact distribution is replaced by its normal approximation
_EXACT_MAX = 400


def signed_rank(units: Sequence[float]) -> tuple[float, float, int]:
    """(two-sided p, signed-rank sum, non-zero units) of "the units are symmetric about 0".

    Wilcoxon's signed-rank statistic with zeros dropped and tied |units| given their mean rank;
    its null distribution is computed exactly (every sign flip equally likely, ties included)
    by convolving over the ranks, so the p-value is exact at any n and with ties, where scipy's
    normal approximation is not. The signed sum is positive when the units favour the claim.
    With no non-zero unit p is 1.
    """
    d = np.asarray([u for u in units if u != 0 and math.isfinite(u)], dtype=float)
    n = d.size
    if n == 0:
        return 1.0, 0.0, 0
    ranks = rankdata(np.abs(d))
    doubled = np.rint(2 * ranks).astype(int)  # mean ranks are multiples of 1/2
    w_plus = int(doubled[d > 0].sum())
    total = int(doubled.sum())
    signed = (2 * w_plus - total) / 2.0
    if n > _EXACT_MAX:
        var = float(np.sum(ranks**2)) / 4.0
        z = (w_plus / 2.0 - ranks.sum() / 2.0) / math.sqrt(var) if var > 0 else 0.0
        return float(min(1.0, 2 * scipy_stats.norm.sf(abs(z)))), signed, n
    # distribution of W+ (in doubled ranks): each rank enters with probability 1/2
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    for r in doubled:
        shifted = np.zeros_like(dist)
        shifted[r:] = dist[:-r] if r > 0 else dist
        dist = 0.5 * (dist + shifted)
    lower = float(dist[: w_plus + 1].sum())
    upper = float(dist[w_plus:].sum())
    return float(min(1.0, 2 * min(lower, upper))), signed, n


def min_signed_rank_p(n: int) -> float:
    """Smallest two-sided signed-rank p with n non-zero units: 2 / 2**n (all of one sign, no ties)."""
    return 1.0 if n < 1 else min(1.0, 2.0 / 2**n)


def units_needed(alpha: float) -> int:
    """Fewest non-zero paired units for which the signed-rank test can reach p < alpha."""
    n = 1
    while min_signed_rank_p(n) >= alpha:
        n += 1
    return n


def holm(ps: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected, family-wise error ≤ alpha."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    rejected = [False] * len(ps)
    for rank, i in enumerate(order):
        if ps[i] > alpha / (len(ps) - rank):
            break
        rejected[i] = True
    return rejected


def t_one_sided(d: np.ndarray, shift: float, greater: bool) -> float:
    """p of H0 "mean ≤ shift" (greater) or "mean ≥ shift", one-sample t; a zero spread decides by the mean.

    The building block of `tost_p`, `beyond_margin_p`, `t_p` and the anatomy claims' non-inferiority tests
    (a one-sided test against a margin: shift = −margin with greater for "no worse than the margin").
    """
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if d.size > 1 else math.inf
    if sd == 0.0:
        beyond = mean > shift if greater else mean < shift
        return 0.0 if beyond else 1.0
    t = (mean - shift) / (sd / math.sqrt(d.size))
    dist = scipy_stats.t(d.size - 1)
    return float(dist.sf(t) if greater else dist.cdf(t))


def tost_p(d: Sequence[float], margin: float) -> float:
    """p of "the mean of d lies outside ±margin" (two one-sided t tests): below alpha, d is equivalent to 0.

    The larger of the two one-sided p-values (Schuirmann's TOST); at level alpha it is a level-alpha
    test of equivalence. With every d equal the spread is 0 and the mean decides: all of them
    inside the margin (both models at ceiling) is equivalence, which the margin defines.
    """
    x = np.asarray(d, dtype=float)
    if x.size < 2:
        return 1.0
    return max(t_one_sided(x, -margin, True), t_one_sided(x, margin, False))


def beyond_margin_p(d: Sequence[float], margin: float) -> float:
    """p of "the mean of d lies within ±margin": below alpha, the gap exceeds the margin (Bonferroni over the sides)."""
    x = np.asarray(d, dtype=float)
    if x.size < 2:
        return 1.0
    return min(1.0, 2 * min(t_one_sided(x, margin, True), t_one_sided(x, -margin, False)))


def t_p(d: Sequence[float]) -> float:
    """Two-sided one-sample t p-value of "mean 0"; a zero spread gives 0 (mean ≠ 0) or 1 (all zero)."""
    x = np.asarray(d, dtype=float)
    if x.size < 2:
        return 1.0
    return min(1.0, 2 * min(t_one_sided(x, 0.0, True), t_one_sided(x, 0.0, False)))
