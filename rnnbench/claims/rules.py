"""The recap claims' outcome and structure rules; each turns a results document into findings, one per configuration."""

from __future__ import annotations

import math
from typing import Any

from rnnbench import stats
from rnnbench.analysis import grouping
from rnnbench.analysis import sweeps as analysis
from rnnbench.analysis.grouping import Group, group_results
from rnnbench.catalog import TASK_SPECS
from rnnbench.claims.types import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    ClaimSettings,
    Finding,
    Measure,
    _num,
)

# --- helpers over the results document -------------------------------------------------------


def label_of(doc: dict[str, Any], arch: str) -> str | None:
    """The column that stands for an architecture: the label named after it, else its first (fused) label."""
    labels = [c.get("label", c["arch"]) for c in doc["cases"] if c["arch"] == arch]
    if not labels:
        return None
    if arch in labels:
        return arch
    fused = [c.get("label", c["arch"]) for c in doc["cases"] if c["arch"] == arch and c.get("impl", "fused") == "fused"]
    return (fused or labels)[0]


def section_pairs(doc: dict[str, Any], first: str, second: str) -> list[tuple[str, Group, Group]]:
    sections, _, groups = group_results(doc)
    return [
        (s, groups[(s, first)], groups[(s, second)]) for s in sections if (s, first) in groups and (s, second) in groups
    ]


def where_of(section: str) -> str:
    return section.replace("/", " ")


# --- the rules --------------------------------------------------------------------------------


def structure_rule(doc: dict[str, Any], labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Gates read from the built models (3 and 2) and core parameters LSTM/GRU exactly 4/3 at equal sizes.

    One finding per task (the counts do not depend on seq_len or seed); parameter-matched
    sections, where the hidden sizes differ, say nothing about the structure and are skipped.
    """
    lstm, gru = labels
    findings, seen = [], set()
    for section, a, b in section_pairs(doc, lstm, gru):
        task = a.cases[0]["task"]
        pa, pb, ga, gb = a.first("n_core_params"), b.first("n_core_params"), a.first("gates"), b.first("gates")
        if task in seen or None in (pa, pb, ga, gb) or a.first("hidden_sizes") != b.first("hidden_sizes"):
            continue
        seen.add(task)
        ratio = pa / pb
        exact = ga == 3 and gb == 2 and math.isclose(ratio, 4 / 3, rel_tol=1e-12)
        measures = (
            Measure(f"gates {lstm}", ga),
            Measure(f"gates {gru}", gb),
            Measure(f"core params {lstm}/{gru}", ratio, unit="×", detail=f"{pa} / {pb}, 4/3 expected"),
        )
        findings.append(Finding(where_of(section), SUPPORTED if exact else CONTRADICTED, measures))
    return findings


def _horizon_findings(doc: dict[str, Any], longer: str, shorter: str, s: ClaimSettings) -> list[Finding]:
    """Memory horizons (analysis.horizons) compared per task swept over ≥ 2 seq_lens by both.

    Supported when `longer`'s horizon exceeds `shorter`'s and `shorter` failed a length its
    sweep reached (not censored); contradicted when the order is reversed on the same terms,
    or when the horizons are equal and both failed beyond them. Inconclusive with fewer than
    `min_seeds` seeds at a length, when neither solved the shortest length, or when the one
    that looks shorter solved everything it was given (censored: the sweep is too short).
    """
    results = analysis.horizons(doc)
    findings = []
    for task in dict.fromkeys(grouping.task_key(c) for c in doc["cases"]):
        a, b = results.get((task, longer)), results.get((task, shorter))
        if a is None or b is None or len(set(a.by_seq_len) & set(b.by_seq_len)) < 2:
            continue  # a horizon needs a sweep
        seeds = min(runs for h in (a, b) for _, runs in h.by_seq_len.values())
        measures = tuple(
            Measure(
                f"horizon {label}",
                h.horizon,
                n=(seeds,),
                detail=" ".join(f"T{t}:{k}/{n}" for t, (k, n) in h.by_seq_len.items())
                + (" censored" if h.censored else ""),
            )
            for label, h in ((longer, a), (shorter, b))
        )
        ha, hb = a.horizon or 0, b.horizon or 0
        if seeds < s.min_seeds:
            verdict, note = INCONCLUSIVE, f"fewer than {s.min_seeds} seeds"
        elif ha == hb == 0:
            verdict, note = INCONCLUSIVE, "neither solved the shortest seq_len"
        elif ha != hb:
            low = b if ha > hb else a
            if low.censored:
                verdict, note = INCONCLUSIVE, "the shorter horizon solved every seq_len it was given (censored)"
            else:
                verdict, note = (SUPPORTED if ha > hb else CONTRADICTED), ""
        elif a.censored or b.censored:
            verdict, note = INCONCLUSIVE, f"equal horizons at the end of a sweep (T{ha}): too short to separate them"
        else:
            verdict, note = CONTRADICTED, "equal horizons"
        findings.append(Finding(task, verdict, measures, note))
    return findings


def lstm_long_term_rule(doc: dict[str, Any], labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    lstm, rnn = labels
    return _horizon_findings(doc, lstm, rnn, s)


def gru_short_term_rule(doc: dict[str, Any], labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    gru, lstm = labels
    return _horizon_findings(doc, lstm, gru, s)


def _scale(cases: list[dict[str, Any]]) -> tuple[float, float | None]:
    """(chance-to-perfect range, chance) of a task's metric, so a tolerance means the same on MSE and accuracy."""
    final = next(
        (c["train"]["final"] for c in cases if (c.get("train") or {}).get("final", {}).get("chance") is not None), None
    )
    if final is None:
        return 1.0, None
    perfect = 1.0 if final.get("higher_is_better") else 0.0
    return abs(final["chance"] - perfect) or 1.0, final["chance"]


def gru_data_rule(doc: dict[str, Any], labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Metric gap GRU − LSTM (medians across seeds, analysis.data_efficiency) at the smallest and largest train_size.

    Gaps are divided by the metric's chance-to-perfect range. Supported when the gap at the
    smallest size is within `tolerance` and smaller than at the largest; contradicted when it
    exceeds the tolerance and the two architectures' seed spreads do not overlap; inconclusive
    otherwise (overlapping spreads, or similar at both sizes with no sign the gap shrinks), and
    when both sit within `tolerance` of chance at the smallest size (similar, but vacuously).
    """
    gru, lstm = labels
    efficiency = analysis.data_efficiency(doc)
    findings = []
    for task in dict.fromkeys(grouping.task_key(c) for c in doc["cases"]):
        a, b = efficiency.get((task, gru)), efficiency.get((task, lstm))
        if a is None or b is None:
            continue
        sizes = sorted(set(a) & set(b))
        if len(sizes) < 2:
            continue
        scale, chance = _scale([c for c in doc["cases"] if grouping.task_key(c) == task])
        gaps = {n: (a[n].median - b[n].median) / scale for n in (sizes[0], sizes[-1])}
        n_min = min(x[n].n for x in (a, b) for n in (sizes[0], sizes[-1]))
        measures = tuple(
            Measure(
                f"gap {gru}−{lstm} at n={n}",
                gaps[n],
                n=(a[n].n, b[n].n),
                detail=f"{_num(a[n].median)} vs {_num(b[n].median)}, ÷{_num(scale)}",
            )
            for n in (sizes[0], sizes[-1])
        )
        small, large = abs(gaps[sizes[0]]), abs(gaps[sizes[-1]])
        spreads_overlap = a[sizes[0]].low <= b[sizes[0]].high and b[sizes[0]].low <= a[sizes[0]].high
        at_chance = chance is not None and all(abs(x[sizes[0]].median - chance) / scale <= s.tolerance for x in (a, b))
        if n_min < s.min_seeds:
            verdict, note = INCONCLUSIVE, f"fewer than {s.min_seeds} seeds"
        elif at_chance:
            verdict, note = (
                INCONCLUSIVE,
                f"both at chance at n={sizes[0]}: a gap between models that learned nothing says nothing",
            )
        elif small > s.tolerance:
            verdict = INCONCLUSIVE if spreads_overlap else CONTRADICTED
            note = f"gap beyond ±{s.tolerance:g}" + (", seed spreads overlap" if spreads_overlap else "")
        elif small < large:
            verdict, note = SUPPORTED, f"within ±{s.tolerance:g}, smaller than with more data"
        else:
            verdict, note = INCONCLUSIVE, f"within ±{s.tolerance:g}, but not smaller than with more data"
        findings.append(Finding(task, verdict, measures, note))
    return findings


def bilstm_better_rule(doc: dict[str, Any], labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Final metric Bi-LSTM vs LSTM on non-causal tasks: decided when the CIs of the two medians
    across seeds (stats.ci_median; the seed range for up to 5 seeds) do not overlap."""
    bilstm, lstm = labels
    findings = []
    for section, a, b in section_pairs(doc, bilstm, lstm):
        task = a.cases[0]["task"]
        if TASK_SPECS.get(task) is None or TASK_SPECS[task].causal:
            continue
        values = [[f["metric"] for f in g.finals] for g in (a, b)]
        if min(map(len, values)) < s.min_seeds:
            measures = tuple(
                Measure(
                    f"final metric {lab}",
                    stats.median(v) if v else None,
                    n=(len(v),),
                    detail=f"{len(v)} seed{'s' if len(v) != 1 else ''}",
                )
                for lab, v in zip(labels, values)
            )
            findings.append(Finding(where_of(section), INCONCLUSIVE, measures, f"fewer than {s.min_seeds} seeds"))
            continue
        cis = [stats.ci_median(v, s.confidence) for v in values]
        measures = tuple(
            Measure(
                f"final metric {lab}",
                stats.median(v),
                ci[0],
                ci[1],
                n=(len(v),),
                detail=a.final_info("metric_name") or "",
            )
            for lab, v, ci in zip(labels, values, cis)
        )
        higher_is_better = bool(a.final_info("higher_is_better"))
        if cis[0][0] > cis[1][1] or cis[0][1] < cis[1][0]:
            bilstm_higher = cis[0][0] > cis[1][1]
            verdict, note = (SUPPORTED if bilstm_higher == higher_is_better else CONTRADICTED), ""
        else:
            verdict, note = INCONCLUSIVE, "CIs overlap"
        if task in ("adding1997", "temporal_order") and verdict == SUPPORTED:
            note = "the first key item sits near the start, where the backward direction reaches it in a few steps"
        findings.append(Finding(where_of(section), verdict, measures, note))
    return findings
