"""The lecture's recap claims as data: each a rule over a results document giving a verdict with its numbers.

A rule turns the results into findings, one per configuration (or task) it can judge,
each with a descriptive verdict and the measures behind it; the claim's verdict is one
decision over all of them that controls false verdicts family-wise at `confidence`
(claims/types.py `combine`, claims/decide.py):

- **not measured**: no finding (the suite lacks the cases, e.g. no GRU, no seq_len sweep);
- training outcomes (horizons, final metrics): one exact signed-rank test over every
  configuration's per-seed paired units (the seed is the unit);
- timings (train step from paired rounds, time to solve): Holm over the findings' p-values;
- "similar, especially with less data": its own decider (claims/data_rule.py: TOST and a
  test of the gap's change with train_size);
- structure (gates, parameter counts): exact, every decided finding agrees.

Nothing is ever "supported" without a finding that measured it, and every finding cites
its numbers. Which seeds are needed depends on what varies with the seed: structural
counts need one case; a train-step time needs `min_samples` paired rounds (a seed only
changes the weights' values, not the work); everything that depends on training needs
`min_seeds` seeds per architecture per configuration, and enough configurations × seeds
for the combined test to reach 95 % (docs/statistics.md).
"""

from __future__ import annotations

from typing import TypedDict

from rnnbench.claims.data_rule import decide_similar, gru_data_rule
from rnnbench.claims.recap_rules import complex_sequences_rule, understanding_rule
from rnnbench.claims.rules import (
    bilstm_better_rule,
    gru_short_term_rule,
    label_of,
    lstm_long_term_rule,
    structure_rule,
)
from rnnbench.claims.speed_rules import bilstm_cost_rule, gru_faster_rule
from rnnbench.claims.types import (
    NOT_MEASURED,
    Claim,
    ClaimRecord,
    ClaimResult,
    ClaimSettings,
    Context,
    RecapPlace,
    combine,
)
from rnnbench.results.records import ResultsJson
from rnnbench.results.task_facts import case_task_spec

SWEEP = "seq_len sweep (≥ 2 lengths) with both architectures"

# Every claim of the lecture, in its order (the recap's 3×2 shape lists each cell's statements in this order):
# adding a claim is its rule module and one entry here, with its `recap` place.
CLAIMS: dict[str, Claim] = {
    "lstm_gates": Claim(
        "lstm_gates",
        "LSTM / GRU",
        "architecture",
        "LSTM has three gates, GRU two; LSTM has the more complex structure",
        "gates of the built models; core parameters LSTM/GRU at equal sizes",
        "3 and 2 gates, ratio exactly 4/3",
        ("lstm", "gru"),
        structure_rule,
        # the lecture's "complex structure" is judged by the gates and parameter-count claim
        recap=RecapPlace("LSTM", "Disadvantage", "complex structure"),
    ),
    "lstm_long_term": Claim(
        "lstm_long_term",
        "LSTM",
        "advantage",
        "LSTM captures long-term dependencies",
        "memory horizon (longest seq_len solved in ≥ half the seeds) per configuration, tanh RNN as the contrast",
        "LSTM better than the RNN across the sweep: signed-rank test over per-(seq_len, seed) metric gaps, p < 0.05",
        ("lstm", "rnn"),
        lstm_long_term_rule,
        SWEEP,
        recap=RecapPlace("LSTM", "Advantage", "captures long-term dependencies"),
    ),
    "lstm_complex_sequences": Claim(
        "lstm_complex_sequences",
        "LSTM",
        "advantage",
        "LSTM handles complex sequences",
        "solved seeds and final metric LSTM vs tanh RNN, paired by seed, on the embedded Reber grammar and "
        "temporal order with three keys (6b)",
        "LSTM solves it in most seeds, the tanh RNN in few, LSTM worse in no seed",
        ("lstm", "rnn"),
        complex_sequences_rule,
        "reber or temporal_order (symbols: 3) with both architectures",
        recap=RecapPlace("LSTM", "Advantage", "handles complex sequences"),
    ),
    "gru_faster": Claim(
        "gru_faster",
        "GRU",
        "advantage",
        "GRU is faster to train",
        "train step GRU/LSTM (paired rounds); time to solve GRU/LSTM (seeds)",
        "ratio < 1: Holm over the configurations' p-values, family-wise 95 %",
        ("gru", "lstm"),
        gru_faster_rule,
        recap=RecapPlace("GRU", "Advantage", "faster to train"),
    ),
    "gru_similar_less_data": Claim(
        "gru_similar_less_data",
        "GRU",
        "advantage",
        "GRU performs similarly to LSTM, especially with less training data",
        "per-seed metric gap GRU − LSTM at the smallest and largest train_size, chance-to-perfect units",
        "TOST: gap within ±tolerance at small data, and a t test that the gap shrinks with less data",
        ("gru", "lstm"),
        gru_data_rule,
        "train_size sweep (≥ 2 sizes) with both architectures",
        decide_similar,
        recap=RecapPlace("GRU", "Advantage", "performs similarly to LSTM, especially with less training data"),
    ),
    "gru_short_term": Claim(
        "gru_short_term",
        "GRU",
        "disadvantage",
        "GRU cannot capture long-term dependencies",
        "memory horizon GRU vs LSTM per configuration",
        "LSTM better than GRU across the sweep: signed-rank test over per-(seq_len, seed) metric gaps, p < 0.05",
        ("gru", "lstm"),
        gru_short_term_rule,
        SWEEP,
        recap=RecapPlace("GRU", "Disadvantage", "cannot capture long-term dependencies"),
    ),
    "bilstm_understanding": Claim(
        "bilstm_understanding",
        "Bi-LSTM",
        "advantage",
        "Bi-LSTM offers comprehensive understanding (context from both sides)",
        "solved seeds and final metric Bi-LSTM vs LSTM, paired by seed, on a task whose answers lie in later "
        "inputs (lookahead)",
        "Bi-LSTM solves it in most seeds, LSTM within 0.02 of chance, Bi-LSTM worse in no seed",
        ("bilstm", "lstm"),
        understanding_rule,
        "lookahead task with both architectures",
        recap=RecapPlace("Bi-LSTM", "Advantage", "offers comprehensive understanding"),
    ),
    "bilstm_better": Claim(
        "bilstm_better",
        "Bi-LSTM",
        "advantage",
        "Bi-LSTM gives better performance",
        "final metric Bi-LSTM − LSTM per seed on non-causal tasks, chance-to-perfect units",
        "better: signed-rank test over every configuration's seeds, p < 0.05",
        ("bilstm", "lstm"),
        bilstm_better_rule,
        "non-causal task with both architectures",
        recap=RecapPlace("Bi-LSTM", "Advantage", "better performance"),
    ),
    "bilstm_cost": Claim(
        "bilstm_cost",
        "Bi-LSTM",
        "disadvantage",
        "Bi-LSTM costs computation and training time",
        "train step and core parameters Bi-LSTM/LSTM (≈2×); served: latency on each one's fastest correct path",
        "ratio > 1: Holm over the configurations' p-values, family-wise 95 %",
        ("bilstm", "lstm"),
        bilstm_cost_rule,
        recap=RecapPlace("Bi-LSTM", "Disadvantage", "computational complexity and training time"),
    ),
}


def context(doc: ResultsJson, labels: list[str]) -> Context:
    """Where the numbers were measured: a verdict may hold on cuDNN and fail on a CPU."""
    env = doc.get("env", {})
    backends = {
        label: sorted({b for c in doc["cases"] if c.get("label", c["arch"]) == label and (b := c.get("backend"))})
        for label in labels
    }
    out: Context = {
        "device": env.get("device"),
        "device_name": env.get("device_name"),
        "dtype": env.get("dtype"),
        "torch": env.get("torch"),
        "threads": env.get("threads"),
        "backends": backends,
    }
    real = {c["task"] for c in doc["cases"] if c.get("task_plugin") and (spec := case_task_spec(c)) and spec.real}
    if real:  # only where there are: a run without plugin tasks keeps its claims JSON as it was
        out["plugin_real_tasks"] = sorted(real)
    return out


def evaluate_claim(doc: ResultsJson, claim: Claim, settings: ClaimSettings = ClaimSettings()) -> ClaimResult:
    found = [label_of(doc, arch) for arch in claim.archs]
    missing = [arch for arch, label in zip(claim.archs, found) if label is None]
    labels = [label for label in found if label is not None]
    if missing:
        return ClaimResult(
            claim,
            NOT_MEASURED,
            f"no {' or '.join(missing)} cases",
            (),
            context(doc, labels),
        )
    findings = claim.rule(doc, tuple(labels), settings)
    verdict, reason = (claim.decide or combine)(findings, settings.confidence)
    if verdict == NOT_MEASURED:
        reason = f"no {claim.needs}"
    return ClaimResult(claim, verdict, reason, tuple(findings), context(doc, labels), settings.confidence)


def evaluate_claims(doc: ResultsJson, settings: ClaimSettings = ClaimSettings()) -> list[ClaimResult]:
    """Every recap claim judged on this results document, in the recap's order."""
    return [evaluate_claim(doc, claim, settings) for claim in CLAIMS.values()]


class ClaimsEnv(TypedDict):
    """The run's environment in the claims JSON."""

    device: str | None
    device_name: str | None
    dtype: str | None
    torch: str | None
    threads: int | None
    cpu_model: str | None


class ClaimsDocument(TypedDict):
    """The claims JSON (`rnnbench report --format json`)."""

    kind: str
    version: int
    suite: str | None
    rnnbench_version: str | None
    started_at: str | None
    env: ClaimsEnv
    claims: list[ClaimRecord]


def claims_document(doc: ResultsJson, results: list[ClaimResult]) -> ClaimsDocument:
    """The JSON export: the claims with their findings and context, and what run they came from."""
    env = doc.get("env", {})
    return {
        "kind": "rnnbench-claims",
        "version": 1,
        "suite": doc.get("suite", {}).get("name"),
        "rnnbench_version": doc.get("rnnbench_version"),
        "started_at": doc.get("started_at"),
        "env": {
            "device": env.get("device"),
            "device_name": env.get("device_name"),
            "dtype": env.get("dtype"),
            "torch": env.get("torch"),
            "threads": env.get("threads"),
            "cpu_model": env.get("cpu_model"),
        },
        "claims": [r.to_dict() for r in results],
    }
