"""The rules for "LSTM handles complex sequences" and "Bi-LSTM offers comprehensive understanding", their units,
the nine claims in every output, and the evidence table behind --details / --verbose."""

from __future__ import annotations

import json

import pytest
from results_factory import case, document, seeds
from typer.testing import CliRunner

from rnnbench.claims.recap_rules import CHANCE_BAND, COMPLEX_TASKS, complex_sequences_rule, understanding_rule
from rnnbench.claims.table import CLAIMS, evaluate_claims
from rnnbench.claims.types import CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, SUPPORTED, ClaimSettings
from rnnbench.cli.main import app
from rnnbench.render.recap_shape import statements
from rnnbench.render.report import run_report

runner = CliRunner()
SETTINGS = ClaimSettings()
TO6B = ("temporal_order", {"symbols": 3}, 1 / 8)  # task, options, chance (accuracy)
LOOKAHEAD = ("lookahead", {}, 0.5625)


def outcome(arch, task, seed, metric, solved, seq_len=20, higher_is_better=True):
    """A case on `task` (name, options, chance) with a chosen final metric: copy's record, relabelled."""
    name, options, chance = task
    record = case(arch, "copy", seq_len=seq_len, seed=seed, metric=metric, solved=solved)
    key = name + "".join(f"-{k}={v}" for k, v in sorted(options.items()))
    record["id"] = record["id"].replace("copy", key, 1)
    record.update(task=name, task_options=options)
    record["train"]["final"].update(chance=chance, metric_name="accuracy", higher_is_better=higher_is_better)
    return record


def pair_doc(task, first, second, a, b, n=3, seq_lens=(20,), **kw):
    """Two architectures over n seeds (per seq_len): (metric, solved) per seed from the callables a and b."""
    cases = []
    for t in seq_lens:
        for s in seeds(n):
            cases += [
                outcome(first, task, s, *a(s), seq_len=t, **kw),
                outcome(second, task, s, *b(s), seq_len=t, **kw),
            ]
    return document(cases)


def verdict_of(doc, key):
    return next(r for r in evaluate_claims(doc) if r.claim.key == key).verdict


# --- complex sequences ---------------------------------------------------------------------------


def test_lstm_solving_6b_where_the_rnn_does_not_supports_with_paired_units():
    doc = pair_doc(TO6B, "lstm", "rnn", lambda s: (1.0, True), lambda s: (0.2 + s / 100, False))
    [finding] = complex_sequences_rule(doc, ("lstm", "rnn"), SETTINGS)
    assert finding.verdict == SUPPORTED and finding.where.startswith("temporal_order-symbols=3 T20")
    assert finding.units == pytest.approx([(1.0 - (0.2 + s / 100)) / (1 - 1 / 8) for s in seeds()])
    # the claim pools every configuration's seed units in one signed-rank test: 3 units cannot reach
    # p < 0.05 (the smallest two-sided p is 0.25), 2 configurations x 3 seeds can
    assert verdict_of(doc, "lstm_complex_sequences") == INCONCLUSIVE
    two = pair_doc(TO6B, "lstm", "rnn", lambda s: (1.0, True), lambda s: (0.2 + s / 100, False), seq_lens=(20, 30))
    assert verdict_of(two, "lstm_complex_sequences") == SUPPORTED
    assert {m.name: m.value for m in finding.measures}["solved rnn"] == 0


def test_the_rnn_solving_it_too_contradicts_and_neither_solving_is_inconclusive():
    both = pair_doc(TO6B, "lstm", "rnn", lambda s: (1.0, True), lambda s: (0.995, True))
    [finding] = complex_sequences_rule(both, ("lstm", "rnn"), SETTINGS)
    assert finding.verdict == CONTRADICTED and all(u > 0 for u in finding.units)
    neither = pair_doc(TO6B, "lstm", "rnn", lambda s: (0.6, False), lambda s: (0.3, False))
    assert complex_sequences_rule(neither, ("lstm", "rnn"), SETTINGS)[0].verdict == INCONCLUSIVE


def test_a_seed_both_solve_perfectly_is_a_tie_not_a_loss():
    doc = pair_doc(TO6B, "lstm", "rnn", lambda s: (1.0, True), lambda s: (1.0, True) if s == 0 else (0.3, False))
    [finding] = complex_sequences_rule(doc, ("lstm", "rnn"), SETTINGS)
    assert finding.verdict == SUPPORTED and min(finding.units) == 0


def test_a_seed_where_the_rnn_does_better_breaks_support():
    doc = pair_doc(TO6B, "lstm", "rnn", lambda s: (1.0 if s else 0.3, s > 0), lambda s: (0.4, False))
    [finding] = complex_sequences_rule(doc, ("lstm", "rnn"), SETTINGS)
    assert finding.verdict == INCONCLUSIVE and min(finding.units) < 0


def test_too_few_seeds_and_simple_tasks():
    doc = pair_doc(TO6B, "lstm", "rnn", lambda s: (1.0, True), lambda s: (0.2, False), n=2)
    assert complex_sequences_rule(doc, ("lstm", "rnn"), SETTINGS)[0].verdict == INCONCLUSIVE
    six_a = pair_doc(("temporal_order", {}, 0.25), "lstm", "rnn", lambda s: (1.0, True), lambda s: (0.2, False))
    assert complex_sequences_rule(six_a, ("lstm", "rnn"), SETTINGS) == []
    result = next(r for r in evaluate_claims(six_a) if r.claim.key == "lstm_complex_sequences")
    assert result.verdict == NOT_MEASURED and "reber" in result.reason
    assert set(COMPLEX_TASKS) == {"reber", "temporal_order-symbols=3"}


def test_units_are_signed_so_that_positive_favours_the_claim_on_lower_is_better_metrics():
    # an MSE-like metric: chance 0.5, perfect 0; the LSTM lower (better) must give positive units
    task = ("reber", {}, 0.5)
    doc = pair_doc(
        task, "lstm", "rnn", lambda s: (0.0, True), lambda s: (0.4, False), higher_is_better=False, seq_lens=(24,)
    )
    [finding] = complex_sequences_rule(doc, ("lstm", "rnn"), SETTINGS)
    assert finding.units == pytest.approx([0.8, 0.8, 0.8]) and finding.verdict == SUPPORTED


# --- comprehensive understanding ---------------------------------------------------------------


def test_bilstm_solving_lookahead_while_lstm_stays_at_chance_supports():
    doc = pair_doc(LOOKAHEAD, "bilstm", "lstm", lambda s: (0.995, True), lambda s: (0.5625 - s / 1000, False))
    [finding] = understanding_rule(doc, ("bilstm", "lstm"), SETTINGS)
    assert finding.verdict == SUPPORTED and len(finding.units) == 3 and min(finding.units) > 0.95
    above = next(m for m in finding.measures if m.name == "lstm above chance")
    assert above.value == pytest.approx(-0.001)
    assert verdict_of(doc, "bilstm_understanding") == INCONCLUSIVE  # one configuration: 3 units cannot decide
    two = pair_doc(LOOKAHEAD, "bilstm", "lstm", lambda s: (0.995, True), lambda s: (0.5625, False), seq_lens=(10, 12))
    assert verdict_of(two, "bilstm_understanding") == SUPPORTED


def test_bilstm_at_chance_too_contradicts():
    doc = pair_doc(LOOKAHEAD, "bilstm", "lstm", lambda s: (0.57, False), lambda s: (0.56, False))
    assert understanding_rule(doc, ("bilstm", "lstm"), SETTINGS)[0].verdict == CONTRADICTED


def test_a_unidirectional_model_above_the_chance_band_makes_it_inconclusive():
    doc = pair_doc(LOOKAHEAD, "bilstm", "lstm", lambda s: (1.0, True), lambda s: (0.5625 + 2 * CHANCE_BAND, False))
    [finding] = understanding_rule(doc, ("bilstm", "lstm"), SETTINGS)
    assert finding.verdict == INCONCLUSIVE and "beats chance" in finding.note


def test_tasks_whose_answer_is_not_ahead_say_nothing_about_understanding():
    adding = pair_doc(("adding", {}, 1 / 6), "bilstm", "lstm", lambda s: (0.0, True), lambda s: (0.2, False))
    assert understanding_rule(adding, ("bilstm", "lstm"), SETTINGS) == []


# --- the nine claims everywhere -------------------------------------------------------------------


def test_every_statement_of_the_recap_has_a_claim():
    assert [s.key for s in statements() if s.key not in CLAIMS] == []
    assert len({s.key for s in statements()}) == 9 == len(CLAIMS)


@pytest.fixture
def results_file(tmp_path):
    doc = pair_doc(LOOKAHEAD, "bilstm", "lstm", lambda s: (0.995, True), lambda s: (0.56, False), seq_lens=(10, 12))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    return path


def test_json_report_carries_all_nine_claims_with_units(results_file):
    data = json.loads(runner.invoke(app, ["report", str(results_file), "--format", "json"]).stdout)
    assert [c["key"] for c in data["claims"]] == list(CLAIMS)
    understanding = next(c for c in data["claims"] if c["key"] == "bilstm_understanding")
    assert understanding["verdict"] == SUPPORTED and len(understanding["findings"][0]["units"]) == 3


def test_the_evidence_table_only_with_details(results_file):
    plain = runner.invoke(app, ["report", str(results_file)], env={"COLUMNS": "200"})
    assert plain.exit_code == 0, plain.output
    assert "The recap, measured" in plain.output and "The recap claims, measured" not in plain.output
    assert "--details" in plain.output
    detailed = runner.invoke(app, ["report", str(results_file), "--details"], env={"COLUMNS": "200"})
    assert detailed.output.index("The recap, measured") < detailed.output.index("The recap claims, measured")
    assert "Bi-LSTM offers comprehensive understanding" in detailed.output
    doc = json.loads(results_file.read_text())
    assert [getattr(p, "title", None) for p in run_report(doc)].count("The recap claims, measured") == 0
    assert [getattr(p, "title", None) for p in run_report(doc, details=True)][-1] == "The recap claims, measured"


def test_run_verbose_prints_the_evidence_table(tiny_suite, tmp_path):
    plain = runner.invoke(app, ["run", str(tiny_suite), "--out", str(tmp_path / "a.json"), "--quiet"])
    assert plain.exit_code == 0, plain.output
    assert "The recap, measured" in plain.stdout and "The recap claims, measured" not in plain.stdout
    verbose = runner.invoke(app, ["run", str(tiny_suite), "--out", str(tmp_path / "b.json"), "--quiet", "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    assert "The recap claims, measured" in verbose.stdout
