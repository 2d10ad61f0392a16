"""The recap claims' outcome and structure rules; each turns a results document into findings, one per configuration."""

from __future__ import annotations

import math

from rnnbench import stats
from rnnbench.analysis import sweeps as analysis
from rnnbench.analysis.grouping import Group, group_results, sweep_config
from rnnbench.analysis.sweeps import HorizonResult
from rnnbench.claims import decide
from rnnbench.claims.types import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    ClaimSettings,
    Finding,
    Measure,
)
from rnnbench.results.records import CaseJson, ResultsJson
from rnnbench.results.task_facts import case_task_spec

# --- helpers over the results document -------------------------------------------------------


def label_of(doc: ResultsJson, arch: str) -> str | None:
    """The column that stands for an architecture: the label named after it, else its first (fused) label."""
    labels = [c.get("label", c["arch"]) for c in doc["cases"] if c["arch"] == arch]
    if not labels:
        return None
    if arch in labels:
        return arch
    fused = [c.get("label", c["arch"]) for c in doc["cases"] if c["arch"] == arch and c.get("impl", "fused") == "fused"]
    return (fused or labels)[0]


def section_pairs(doc: ResultsJson, first: str, second: str) -> list[tuple[str, Group, Group]]:
    sections, _, groups = group_results(doc)
    return [
        (s, groups[(s, first)], groups[(s, second)]) for s in sections if (s, first) in groups and (s, second) in groups
    ]


def where_of(section: str) -> str:
    return section.replace("/", " ")


# --- the rules --------------------------------------------------------------------------------


def structure_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
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


def _scored_runs(doc: ResultsJson) -> dict[tuple[str, str, int, int], float]:
    """(seq_len configuration, label, seq_len, seed) -> the run's final metric as a 0-1 score
    (chance 0, perfect 1, sign-corrected for lower-is-better); a diverged or failed run scores 0."""
    by_config: dict[str, list[CaseJson]] = {}
    for c in doc["cases"]:
        if c.get("status") in analysis.ATTEMPTED:
            by_config.setdefault(sweep_config(c, "seq_len"), []).append(c)
    out = {}
    for config, cases in by_config.items():
        scale, chance, higher = scale_of(cases)
        for c in cases:
            value = analysis.final_metric(c)
            score = 0.0 if value is None or chance is None else (value - chance) / scale * (1 if higher else -1)
            out[(config, c.get("label") or c["arch"], int(c["seq_len"]), int(c.get("seed", 0)))] = score
    return out


def _horizon_findings(doc: ResultsJson, longer: str, shorter: str, s: ClaimSettings) -> list[Finding]:
    """Memory horizons (analysis.horizons) compared per configuration swept over ≥ 2 seq_lens by both.

    Units (the claim's signed-rank test pools them over configurations): one per seq_len and
    seed run by both, the final metric of `longer` minus `shorter` ÷ the metric's
    chance-to-perfect range, positive when `longer` is better (a diverged or failed run counts
    at chance). Each such pair is its own pair of training runs on the same seed's data, so the
    pairs are independent. The metric rather than solved/unsolved: a 0/1 unit throws away how
    far from solved a run got, and with 3 seeds the sign test over solved pairs caught a 0.25
    gap in only 37 % of simulated recaps (benchmarks/stats_audit_claims.py).
    A configuration with fewer than `min_seeds` seeds at a length gives no units.
    The per-finding verdict describes the horizons: supported when `longer`'s exceeds `shorter`'s
    and `shorter` failed a length its sweep reached (not censored), contradicted when reversed on
    the same terms, inconclusive when equal, censored, or neither solved the shortest length.
    """
    results = analysis.horizons(doc)
    metric = _scored_runs(doc)
    findings = []
    for config in dict.fromkeys(key[0] for key in results):
        a, b = results.get((config, longer)), results.get((config, shorter))
        if a is None or b is None:
            continue
        common = [t for t in a.by_seq_len if t in b.by_seq_len and a.by_seq_len[t][1] and b.by_seq_len[t][1]]
        if len(common) < 2:
            continue  # a horizon needs a sweep
        seeds = min(h.by_seq_len[t][1] for h in (a, b) for t in common)
        units = _horizon_units(metric, config, (longer, a), (shorter, b), common)
        measures = tuple(_horizon_measure(label, h, seeds) for label, h in ((longer, a), (shorter, b)))
        if seeds < s.min_seeds:
            verdict, note, units = INCONCLUSIVE, f"fewer than {s.min_seeds} seeds", ()
        else:
            verdict, note = _horizon_verdict(a, b)
        findings.append(Finding(config, verdict, measures, note, units=units))
    return findings


def _horizon_units(
    metric: dict[tuple[str, str, int, int], float],
    config: str,
    longer: tuple[str, HorizonResult],
    shorter: tuple[str, HorizonResult],
    common: list[int],
) -> tuple[float, ...]:
    """Per seq_len in `common` and seed run by both, the 0-1 score of `longer` minus `shorter`."""
    (la, a), (lb, b) = longer, shorter
    return tuple(
        metric[(config, la, t, seed)] - metric[(config, lb, t, seed)]
        for t in common
        for seed in a.solved_by_seed[t]
        if seed in b.solved_by_seed[t] and (config, la, t, seed) in metric and (config, lb, t, seed) in metric
    )


def _horizon_measure(label: str, h: HorizonResult, seeds: int) -> Measure:
    """A label's horizon, with its solved/run counts per seq_len, censoring and interrupted runs."""
    return Measure(
        f"horizon {label}",
        h.horizon,
        n=(seeds,),
        detail=" ".join(f"T{t}:{k}/{n}" for t, (k, n) in h.by_seq_len.items())
        + (" censored" if h.censored else "")
        + (f" ({sum(h.interrupted.values())} interrupted, not counted)" if h.interrupted else ""),
    )


def _horizon_verdict(a: HorizonResult, b: HorizonResult) -> tuple[str, str]:
    """The descriptive verdict of `a`'s horizon (the longer-claimed) against `b`'s (`_horizon_findings`)."""
    ha, hb = a.horizon or 0, b.horizon or 0
    if ha == hb == 0:
        return INCONCLUSIVE, "neither solved the shortest seq_len"
    if ha != hb:
        low = b if ha > hb else a
        if low.censored:
            return INCONCLUSIVE, "the shorter horizon solved every seq_len it was given (censored)"
        return (SUPPORTED if ha > hb else CONTRADICTED), ""
    if a.censored or b.censored:
        return INCONCLUSIVE, f"equal horizons at the end of a sweep (T{ha}): too short to separate them"
    return INCONCLUSIVE, "equal horizons"


def lstm_long_term_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    lstm, rnn = labels
    return _horizon_findings(doc, lstm, rnn, s)


def gru_short_term_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    gru, lstm = labels
    return _horizon_findings(doc, lstm, gru, s)


def scale_of(cases: list[CaseJson]) -> tuple[float, float | None, bool]:
    """(chance-to-perfect range, chance, higher_is_better) of a task's metric, so a gap means the same on MSE and accuracy."""
    for c in cases:
        final = (c.get("train") or {}).get("final", {})
        chance = final.get("chance")
        if chance is not None:  # the first case whose final record has a chance score
            higher = bool(final.get("higher_is_better"))
            return abs(chance - (1.0 if higher else 0.0)) or 1.0, chance, higher
    return 1.0, None, True


def paired_units(a: Group, b: Group) -> tuple[float, ...]:
    """Per seed run ok by both, (a − b) ÷ the chance-to-perfect range, signed so that positive means a is better."""
    scale, _, higher = scale_of(a.cases + b.cases)
    metrics = [{c["seed"]: m for c in g.ok if (m := c["train"]["final"].get("metric")) is not None} for g in (a, b)]
    sign = 1.0 if higher else -1.0
    return tuple(sign * (metrics[0][k] - metrics[1][k]) / scale for k in sorted(metrics[0]) if k in metrics[1])


def bilstm_better_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Final metric Bi-LSTM vs LSTM on non-causal tasks, paired by seed, in chance-to-perfect units.

    Units: per seed, (Bi-LSTM − LSTM) ÷ the metric's chance-to-perfect range, positive when
    Bi-LSTM is better; the claim's signed-rank test pools them over every configuration. The
    per-finding verdict is that test on the configuration's own units (with 3 seeds it cannot
    reach 95 % alone: 6 non-zero units are needed). Fewer than `min_seeds` seeds: no units.
    """
    bilstm, lstm = labels
    findings = []
    alpha = 1.0 - s.confidence
    for section, a, b in section_pairs(doc, bilstm, lstm):
        task, spec = a.cases[0]["task"], case_task_spec(a.cases[0])
        if spec is None or spec.causal:
            continue
        values = [g.metrics for g in (a, b)]
        units = paired_units(a, b)
        measures = tuple(
            Measure(
                f"final metric {lab}",
                stats.median(v) if v else None,
                n=(len(v),),
                detail=a.final_info("metric_name") or f"{len(v)} seed{'s' if len(v) != 1 else ''}",
            )
            for lab, v in zip(labels, values)
        )
        if len(units) < s.min_seeds:
            findings.append(Finding(where_of(section), INCONCLUSIVE, measures, f"fewer than {s.min_seeds} seeds"))
            continue
        p, signed, _ = decide.signed_rank(units)
        gap = Measure(f"gap {bilstm}−{lstm}", stats.median(units), n=(len(units),), detail=f"per seed, p = {p:.2g}")
        if p < alpha and signed:
            verdict, note = (SUPPORTED if signed > 0 else CONTRADICTED), ""
        else:
            verdict, note = INCONCLUSIVE, "seeds disagree or too few alone"
        if task in ("adding1997", "temporal_order") and verdict == SUPPORTED:
            note = "the first key item sits near the start, where the backward direction reaches it in a few steps"
        findings.append(Finding(where_of(section), verdict, (*measures, gap), note, units=units))
    return findings
