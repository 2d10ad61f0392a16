"""The LSTM anatomy claims (Greff et al. 2017, Jozefowicz et al. 2015, Tallec & Ollivier 2018) as rules and decisions.

Beside the lecture's nine and in their vocabulary: every finding carries per-seed paired units in
chance-to-perfect units, signed so that positive favours the claim (claims/types.py), and each claim's
verdict is one family-wise decision over all its configurations and seeds, with its p in the reason:

- `forget_gate_long_term`, `chrono_long_t`: one claim, one comparison at long T (seq_len >= LONG_T):
  the exact signed-rank test over the pooled units (`combine`, as the recap's outcome claims).
- `greff_variants` and `jozefowicz_bias`: claims of several parts that must all hold. Supported by an
  intersection-union test (every part's own one-sided test at alpha; the claim's p is the largest);
  contradicted when Holm over the parts' opposite tests rejects one (the claim's p is the smallest
  Holm-adjusted p). A part "does not hurt" / "closes the gap" is an equivalence within the claims'
  margin `MARGIN` (a one-sided t test against it, as `decide.tost_p`'s halves).

A claim is not measured unless the suite ran what it compares (the variants or initialisations with
vanilla or the GRU, on the same configurations and seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from rnnbench.analysis.anatomy import (
    CasePredicate,
    is_arch,
    is_lstm_init,
    is_variant,
    paired_by,
    seq_len_of,
)
from rnnbench.claims import decide
from rnnbench.claims.anatomy_table import holm_adjusted
from rnnbench.claims.recap_rules import _gap_measure, _solved_measure, paired_units
from rnnbench.claims.rules import where_of
from rnnbench.claims.types import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_MEASURED,
    SUPPORTED,
    Claim,
    ClaimSettings,
    Finding,
    combine,
)
from rnnbench.results.records import ResultsJson

LONG_T = 50  # "long T": the dependency spans at least this many steps (adding, temporal order, copy at T >= 50)
# "does not hurt" / "closes the gap": no worse than this, in chance-to-perfect units: the smallest gap the anatomy
# suite is built to resolve (benchmarks/stats_audit_anatomy.py); a tighter margin needs many more seeds
MARGIN = 0.25
HURT, HARMLESS = ("nfg", "noaf"), ("cifg", "np")  # Greff et al. 2017's findings on all three data sets


def _part_findings(
    doc: ResultsJson,
    part: str,
    better: CasePredicate,
    worse: CasePredicate,
    names: tuple[str, str],
    min_t: int = 0,
    within: set[str] | None = None,
) -> list[Finding]:
    """One finding of `part` per section holding both (only sections in `within`, where given): units = better −
    worse (chance-to-perfect); `where` names the section and, in brackets, the part, as the tables print it."""
    found = []
    for section, (a, b) in paired_by(doc, better, worse):
        if seq_len_of(section) < min_t or (within is not None and section not in within):
            continue
        units, scale, _, _ = paired_units(a, b)
        measures = (_gap_measure(*names, units, scale), _solved_measure(names[0], a), _solved_measure(names[1], b))
        found.append(
            _describe(Finding(f"{where_of(section)} ({part})", INCONCLUSIVE, measures, units=units, part=part))
        )
    return found


def _describe(finding: Finding) -> Finding:
    """The per-finding verdict, descriptive only (the claim decides on all findings at once)."""
    units = finding.units
    if not units:
        return finding
    verdict = SUPPORTED if min(units) > 0 else CONTRADICTED if max(units) < 0 else INCONCLUSIVE
    return replace(finding, verdict=verdict)


def forget_gate_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Vanilla against NFG at long T: positive units, vanilla better."""
    return _part_findings(doc, "nfg", is_variant("vanilla"), is_variant("nfg"), ("vanilla", "nfg"), LONG_T)


def chrono_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """The LSTM with chrono against the LSTM with forget bias 1 at long T: positive units, chrono better."""
    return _part_findings(doc, "chrono", is_lstm_init("chrono"), is_lstm_init(1.0), ("chrono", "fb1"), LONG_T)


def greff_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Vanilla − variant per seed for NFG, NOAF (expected > 0) and CIFG, NP (expected ≈ 0); all four or nothing."""
    parts = {v: _part_findings(doc, v, is_variant("vanilla"), is_variant(v), ("vanilla", v)) for v in HURT + HARMLESS}
    if not all(parts.values()):
        return []
    return [f for found in parts.values() for f in found]


def jozefowicz_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """fb1 − fb0 (expected > 0) and fb1 − GRU (expected > −MARGIN), where all three ran together."""
    sections = {section for section, _ in paired_by(doc, is_lstm_init(0.0), is_lstm_init(1.0), is_arch("gru"))}
    improve = _part_findings(doc, "improves", is_lstm_init(1.0), is_lstm_init(0.0), ("fb1", "fb0"), within=sections)
    close = _part_findings(doc, "closes", is_lstm_init(1.0), is_arch("gru"), ("fb1", "gru"), within=sections)
    return improve + close


def _units_by_part(findings: list[Finding]) -> dict[str, list[float]]:
    parts: dict[str, list[float]] = {}
    for finding in findings:
        parts.setdefault(finding.part or "", []).extend(finding.units)
    return parts


def _directional_signed_rank(units: list[float], positive: bool) -> float:
    """The two-sided signed-rank p where the units lean the stated way, else 1: a claim's "holds" and "against"
    tests then share alpha (each at most alpha / 2 with no effect), so no verdict at all is false above alpha."""
    p, signed, _ = decide.signed_rank(units)
    leans = signed > 0 if positive else signed < 0
    return p if leans else 1.0


def _not_above_p(units: list[float], margin: float) -> float:
    """p of "mean ≥ margin" (non-inferiority the other way): small when the units stay below +margin."""
    return decide.t_one_sided(_array(units), margin, False) if len(units) > 1 else 1.0


def _not_below_p(units: list[float], margin: float) -> float:
    """p of "mean ≤ −margin" (non-inferiority): small when the units are no worse than −margin."""
    return decide.t_one_sided(_array(units), -margin, True) if len(units) > 1 else 1.0


def _below_p(units: list[float], margin: float) -> float:
    """p of "mean ≥ −margin": small when the units lie below −margin (worse beyond the margin)."""
    return decide.t_one_sided(_array(units), -margin, False) if len(units) > 1 else 1.0


def _array(units: list[float]) -> np.ndarray:
    return np.asarray(units, dtype=float)


PartTests = dict[str, tuple[Callable[[list[float], float], float], Callable[[list[float], float], float]]]

# part -> (p of the part holding, p of its opposite), each from the part's pooled units and the margin.
GREFF_TESTS: PartTests = {
    **{
        v: (
            lambda u, m: _directional_signed_rank(u, True),
            lambda u, m: min(1.0, 2 * min(_directional_signed_rank(u, False), _not_above_p(u, m))),
        )
        for v in HURT
    },
    **{v: (_not_above_p, lambda u, m: _directional_signed_rank(u, True)) for v in HARMLESS},
}
JOZEFOWICZ_TESTS: PartTests = {
    "improves": (lambda u, m: _directional_signed_rank(u, True), lambda u, m: _directional_signed_rank(u, False)),
    "closes": (_not_below_p, _below_p),
}


def decide_parts(tests: PartTests, margin: float) -> Callable[[list[Finding], float], tuple[str, str]]:
    """A claim of several parts: supported when every part holds (intersection-union), contradicted by Holm."""

    def decide_claim(findings: list[Finding], confidence: float) -> tuple[str, str]:
        if not findings:
            return NOT_MEASURED, "the results hold no cases that measure it"
        alpha = 1.0 - confidence
        units = _units_by_part(findings)
        if set(units) != set(tests):
            return INCONCLUSIVE, f"parts measured: {', '.join(sorted(units))} of {', '.join(tests)}"
        holds = {part: tests[part][0](u, margin) for part, u in units.items()}
        fails = dict(zip(units, holm_adjusted([tests[part][1](u, margin) for part, u in units.items()])))
        detail = "; ".join(f"{part}: p {holds[part]:.2g} / against {fails[part]:.2g}" for part in tests)
        sizes = ", ".join(f"{len(u)}" for u in units.values())
        if max(holds.values()) < alpha:
            return SUPPORTED, f"every part holds, family-wise p = {max(holds.values()):.2g} ({detail}; units {sizes})"
        if min(fails.values()) < alpha:
            broken = [part for part, p in fails.items() if p < alpha]
            return CONTRADICTED, (
                f"{', '.join(broken)} against the claim, family-wise p = {min(fails.values()):.2g} ({detail})"
            )
        return INCONCLUSIVE, f"no part decided at {alpha:g} ({detail}; units {sizes})"

    return decide_claim


def _needs(what: str) -> str:
    return f"{what} on the same configurations and seeds"


ANATOMY_CLAIMS: dict[str, Claim] = {
    "forget_gate_long_term": Claim(
        "forget_gate_long_term",
        "LSTM anatomy",
        "forget gate",
        "the forget gate carries long-term information",
        f"final metric vanilla − NFG per seed at T ≥ {LONG_T}, chance-to-perfect units",
        "vanilla better: signed-rank test over every configuration's seeds, p < 0.05",
        ("lstm",),
        forget_gate_rule,
        _needs(f"lstm variants vanilla and nfg at T ≥ {LONG_T}"),
        combine,
    ),
    "greff_variants": Claim(
        "greff_variants",
        "LSTM anatomy",
        "variants",
        "NFG and NOAF hurt, CIFG and NP do not (Greff et al. 2017)",
        "final metric vanilla − variant per seed for NFG, NOAF, CIFG and NP, chance-to-perfect units",
        "NFG and NOAF worse (one-sided signed-rank) and CIFG and NP worse by less than 0.25 (one-sided t), every part at 0.05",
        ("lstm",),
        greff_rule,
        _needs("lstm variants vanilla, nfg, noaf, cifg and np"),
        decide_parts(GREFF_TESTS, MARGIN),
    ),
    "jozefowicz_bias": Claim(
        "jozefowicz_bias",
        "LSTM anatomy",
        "forget bias",
        "a forget-gate bias of 1 closes the LSTM–GRU gap (Jozefowicz et al. 2015)",
        "final metric per seed: LSTM fb1 − fb0, and LSTM fb1 − GRU, chance-to-perfect units",
        "fb1 better than fb0 (one-sided signed-rank) and fb1 worse than the GRU by less than 0.25 (one-sided t), "
        "both at 0.05",
        ("lstm", "gru"),
        jozefowicz_rule,
        _needs("lstm with forget_bias 0 and 1 and a gru"),
        decide_parts(JOZEFOWICZ_TESTS, MARGIN),
    ),
    "chrono_long_t": Claim(
        "chrono_long_t",
        "LSTM anatomy",
        "forget bias",
        "chrono initialisation beats a forget bias of 1 at long T (Tallec & Ollivier 2018)",
        f"final metric LSTM chrono − LSTM fb1 per seed at T ≥ {LONG_T}, chance-to-perfect units",
        "chrono better: signed-rank test over every configuration's seeds, p < 0.05",
        ("lstm",),
        chrono_rule,
        _needs(f"lstm with forget_bias chrono and 1 at T ≥ {LONG_T}"),
        combine,
    ),
}


def evaluate_anatomy_claims(doc: ResultsJson, settings: ClaimSettings = ClaimSettings()):
    """Every anatomy claim judged on this document (`table.evaluate_claim`), in `ANATOMY_CLAIMS` order."""
    from rnnbench.claims.table import evaluate_claim

    return [evaluate_claim(doc, claim, settings) for claim in ANATOMY_CLAIMS.values()]
