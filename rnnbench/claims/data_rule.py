"""The "GRU performs similarly, especially with less data" rule and its decision: TOST and a test of the gap's change.

Per configuration (everything but train_size and seed) the per-seed gaps g = (GRU − LSTM) ÷ the
metric's chance-to-perfect range, positive when GRU is better, are read at the smallest train
size (d0) and the largest (d1); a seed's change D = g(smallest) − g(largest) pairs the two. With
α = 1 − confidence and the margin m = `ClaimSettings.tolerance` (chance-to-perfect units):

- **similar** at less data: TOST, both one-sided t tests of mean(d0) against ±m reject at α. Both
  models at ceiling in every seed (all gaps 0) is similar: the margin says what similar means.
- **especially with less data**: the two-sided t test of mean(D) = 0 rejects at α and the change
  moves the gap toward 0 at less data (|mean d0| < |mean d1|).
- **not similar**: the gap at less data lies beyond ±m, one-sided t at α/2 per side (`p` of the
  finding).

A configuration is supported when similar and especially both hold, contradicted when not
similar; anything else is inconclusive, with which part held in the note. The claim
(`decide_similar`) is contradicted when Holm over the configurations' not-similar p-values
rejects one, supported when every decidable configuration is supported (an intersection-union
test: each at α, so the whole at α), inconclusive otherwise. Identical models are similar but
show no change with data, so they come out inconclusive. A configuration with fewer than
`min_seeds` paired seeds, or with both models within the margin of chance at less data (a gap
between models that learned nothing says nothing), is described but does not decide.
"""

from __future__ import annotations

import numpy as np

from rnnbench.analysis import sweeps as analysis
from rnnbench.analysis.grouping import sweep_config
from rnnbench.analysis.sweeps import MetricSpread
from rnnbench.claims import decide
from rnnbench.claims.rules import scale_of
from rnnbench.claims.types import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_MEASURED,
    SUPPORTED,
    ClaimSettings,
    Finding,
    Measure,
    _num,
)
from rnnbench.results.records import ResultsJson


def _gaps(a: MetricSpread, b: MetricSpread, sign: float, scale: float) -> dict[int, float]:
    """seed -> sign · (a − b) ÷ scale, for seeds both ran ok."""
    other = dict(zip(b.seeds, b.values))
    return {k: sign * (v - other[k]) / scale for k, v in zip(a.seeds, a.values) if k in other}


def gru_data_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """One finding per configuration with a train_size sweep run by both; the module docstring has the tests."""
    gru, lstm = labels
    efficiency = analysis.data_efficiency(doc)
    findings = []
    for config in dict.fromkeys(key[0] for key in efficiency):
        a, b = efficiency.get((config, gru)), efficiency.get((config, lstm))
        if a is None or b is None or len(set(a) & set(b)) < 2:
            continue
        scale = scale_of([c for c in doc["cases"] if sweep_config(c, "train_size") == config])
        findings.append(_config_finding(config, labels, a, b, scale, s))
    return findings


def _config_finding(
    config: str,
    labels: tuple[str, ...],
    a: dict[int, MetricSpread],
    b: dict[int, MetricSpread],
    metric_scale: tuple[float, float | None, bool],
    s: ClaimSettings,
) -> Finding:
    """The finding of one configuration: `a` (GRU) and `b` (LSTM) by train_size, both with ≥ 2 sizes in common;
    `metric_scale` is `scale_of` the configuration's cases (chance-to-perfect range, chance, higher is better)."""
    gru, lstm = labels
    margin = s.tolerance
    sizes = sorted(set(a) & set(b))
    small, large = sizes[0], sizes[-1]
    scale, chance, higher = metric_scale
    sign = 1.0 if higher else -1.0
    g0, g1 = (_gaps(a[n], b[n], sign, scale) for n in (small, large))
    d0, d1 = list(g0.values()), list(g1.values())
    change = [g0[k] - g1[k] for k in g0 if k in g1]
    measures = tuple(
        Measure(
            f"gap {gru}−{lstm} at n={n}",
            float(np.median(d)) if d else None,
            n=(len(d),),
            detail=f"{_num(a[n].median)} vs {_num(b[n].median)}, ÷{_num(scale)}",
        )
        for n, d in ((small, d0), (large, d1))
    )
    at_chance = chance is not None and all(abs(x[small].median - chance) / scale <= margin for x in (a, b))
    if min(len(d0), len(change)) < s.min_seeds:
        return Finding(config, INCONCLUSIVE, measures, f"fewer than {s.min_seeds} paired seeds")
    if at_chance:
        note = f"both at chance at n={small}: a gap between models that learned nothing says nothing"
        return Finding(config, INCONCLUSIVE, measures, note)
    p_similar, p_beyond, p_change = decide.tost_p(d0, margin), decide.beyond_margin_p(d0, margin), decide.t_p(change)
    tests = Measure(
        "tests",
        None,
        detail=f"TOST ±{margin:g} p = {p_similar:.2g}; beyond ±{margin:g} p = {p_beyond:.2g}; "
        f"change with data p = {p_change:.2g}",
    )
    shrinks = abs(float(np.mean(d0))) < abs(float(np.mean(d1)))
    verdict, note = _similar_verdict(p_similar, p_beyond, p_change, shrinks, small, len(d0), s)
    # units: each seed's change, positive when the gap moves toward 0 with less data (descriptive:
    # the orientation follows the large-data gap, so `decide_similar`, not the signed-rank test, decides)
    orient = -1.0 if float(np.mean(d1)) >= 0 else 1.0
    units = tuple(orient * x for x in change)
    return Finding(config, verdict, (*measures, tests), note, units=units, p=p_beyond)


def _similar_verdict(
    p_similar: float, p_beyond: float, p_change: float, shrinks: bool, small: int, seeds: int, s: ClaimSettings
) -> tuple[str, str]:
    """A configuration's verdict and note from its three tests (the module docstring), at α = 1 − confidence."""
    alpha, margin = 1.0 - s.confidence, s.tolerance
    similar = f"similar at n={small} (within ±{margin:g})"
    if p_beyond < alpha:
        return CONTRADICTED, f"gap beyond ±{margin:g} at n={small}"
    if p_similar < alpha and p_change < alpha and shrinks:
        return SUPPORTED, f"{similar}, and the gap shrinks with less data"
    if p_similar < alpha and p_change < alpha:
        return INCONCLUSIVE, f"{similar}, but the gap is larger with less data"
    if p_similar < alpha:
        return INCONCLUSIVE, f"{similar}, but no sign the gap shrinks with less data"
    return INCONCLUSIVE, f"neither similar nor different at ±{margin:g} with {seeds} seeds"


def decide_similar(findings: list[Finding], confidence: float = 0.95) -> tuple[str, str]:
    """The claim's verdict over its configurations (the module docstring): Holm for "not similar", all for supported."""
    if not findings:
        return NOT_MEASURED, "the results hold no cases that measure it"
    alpha = 1.0 - confidence
    decidable = [f for f in findings if f.p is not None]
    notes = "; ".join(sorted({f.note for f in findings if f.note}))
    if not decidable:
        return INCONCLUSIVE, f"no configuration can decide: {notes}"
    rejected = decide.holm([f.p or 0.0 for f in decidable], alpha)
    of = f"of {len(decidable)} configuration{'s' if len(decidable) != 1 else ''}"
    if any(rejected):
        return CONTRADICTED, f"not similar in {sum(rejected)} {of} (Holm)"
    if all(f.verdict == SUPPORTED for f in decidable):
        return SUPPORTED, f"similar and the gap shrinks with less data in all {len(decidable)} {of[3:]}"
    return INCONCLUSIVE, notes
