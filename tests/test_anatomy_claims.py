"""The LSTM anatomy claims and table on synthetic results documents: one document per verdict."""

from __future__ import annotations

import io

import pytest
from results_factory import case, document
from rich.console import Console

from rnnbench.claims.anatomy import LONG_T, evaluate_anatomy_claims
from rnnbench.claims.anatomy_table import anatomy_rows, holm_adjusted
from rnnbench.claims.types import CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, SUPPORTED
from rnnbench.render.anatomy import anatomy_claims_table, anatomy_table

GOOD, BAD = 0.005, 0.16  # adding MSE: solved, near chance (1/6)
SEEDS = range(4)
LONG = (LONG_T, 2 * LONG_T)  # two long configurations: 8 paired seeds per comparison


def run(label, seq_len, seed, mse, *, arch="lstm", variant=None, forget_bias=None):
    record = case(arch, "adding", seq_len=seq_len, seed=seed, label=label, metric=mse, solved=mse < 0.01)
    record["settings"] = {"variant": variant, "forget_bias": forget_bias}
    return record


def doc_of(models: dict[str, dict], mse, seq_lens=LONG, seeds=SEEDS):
    """`models`: label -> run() keywords; `mse(label, seq_len, seed)` gives each run's final MSE."""
    cases = [run(label, t, s, mse(label, t, s), **kw) for t in seq_lens for s in seeds for label, kw in models.items()]
    return document(cases, name="anatomy")


def verdict(doc, key):
    result = next(r for r in evaluate_anatomy_claims(doc) if r.claim.key == key)
    return result.verdict, result.reason


VARIANTS = {v: {"variant": v} for v in ("vanilla", "nfg", "noaf", "cifg", "np")}
INITS = {"lstm-fb0": {"forget_bias": 0.0}, "lstm-fb1": {"forget_bias": 1.0}, "lstm-chrono": {"forget_bias": "chrono"}}
INITS["gru"] = {"arch": "gru"}


def jitter(seed: int) -> float:
    return 0.001 * ((seed * 7) % 5 - 2)  # small, seed-dependent, symmetric about 0


# --- the forget gate carries long-term information ---------------------------------------------------


@pytest.mark.parametrize(
    "nfg_mse, expected",
    [(BAD, SUPPORTED), (GOOD - 0.004, CONTRADICTED)],
)
def test_forget_gate_claim_decided_both_ways(nfg_mse, expected):
    doc = doc_of(VARIANTS, lambda label, t, s: (nfg_mse if label == "nfg" else 0.02) + jitter(s))
    got, reason = verdict(doc, "forget_gate_long_term")
    assert got == expected and "signed-rank over 8 seed units of 2 configurations" in reason


def test_forget_gate_claim_inconclusive_with_mixed_seeds():
    doc = doc_of(VARIANTS, lambda label, t, s: BAD if (label == "nfg") == (s % 2 == 0) else GOOD)
    assert verdict(doc, "forget_gate_long_term")[0] == INCONCLUSIVE


def test_forget_gate_claim_not_measured_at_short_t_or_without_nfg():
    short = doc_of(VARIANTS, lambda label, t, s: BAD if label == "nfg" else GOOD, seq_lens=(10, 20))
    assert verdict(short, "forget_gate_long_term")[0] == NOT_MEASURED
    no_nfg = doc_of({"vanilla": {"variant": "vanilla"}}, lambda label, t, s: GOOD)
    assert verdict(no_nfg, "forget_gate_long_term")[0] == NOT_MEASURED


# --- Greff: NFG and NOAF hurt, CIFG and NP do not ------------------------------------------------------


def greff_doc(cifg_mse: float):
    worse = {"nfg": BAD, "noaf": BAD, "cifg": cifg_mse, "np": 0.02}
    return doc_of(VARIANTS, lambda label, t, s: worse.get(label, 0.02) + jitter(s) * (label != "vanilla"))


def test_greff_supported_when_the_hurtful_hurt_and_the_harmless_are_equivalent():
    got, reason = verdict(greff_doc(0.02), "greff_variants")
    assert got == SUPPORTED and "family-wise p" in reason


def test_greff_contradicted_when_cifg_hurts():
    got, reason = verdict(greff_doc(BAD), "greff_variants")
    assert got == CONTRADICTED and reason.startswith("cifg against the claim")


def test_greff_inconclusive_with_two_seeds_and_not_measured_without_np():
    few = doc_of(VARIANTS, lambda label, t, s: BAD if label in ("nfg", "noaf") else GOOD, seeds=range(2))
    assert verdict(few, "greff_variants")[0] == INCONCLUSIVE
    without_np = {k: v for k, v in VARIANTS.items() if k != "np"}
    assert verdict(doc_of(without_np, lambda label, t, s: GOOD), "greff_variants")[0] == NOT_MEASURED


# --- Jozefowicz: forget bias 1 closes the LSTM-GRU gap ------------------------------------------------


def test_jozefowicz_supported_when_fb1_catches_the_gru():
    mse = {"lstm-fb0": BAD, "lstm-fb1": 0.01, "gru": 0.01, "lstm-chrono": 0.01}
    got, reason = verdict(doc_of(INITS, lambda label, t, s: mse[label] + jitter(s)), "jozefowicz_bias")
    assert got == SUPPORTED, reason


def test_jozefowicz_contradicted_when_fb1_stays_behind_the_gru():
    mse = {"lstm-fb0": BAD, "lstm-fb1": BAD, "gru": GOOD, "lstm-chrono": GOOD}
    got, reason = verdict(doc_of(INITS, lambda label, t, s: mse[label] + jitter(s)), "jozefowicz_bias")
    assert got == CONTRADICTED and "closes" in reason


def test_jozefowicz_inconclusive_without_a_gap_and_not_measured_without_gru():
    same = doc_of(INITS, lambda label, t, s: GOOD + jitter(s + len(label)), seeds=range(3), seq_lens=(50,))
    assert verdict(same, "jozefowicz_bias")[0] == INCONCLUSIVE
    no_gru = {k: v for k, v in INITS.items() if k != "gru"}
    assert verdict(doc_of(no_gru, lambda label, t, s: GOOD), "jozefowicz_bias")[0] == NOT_MEASURED


def test_jozefowicz_findings_name_their_part_and_keep_sections_where_all_three_ran():
    lstm_only = {k: v for k, v in INITS.items() if k != "gru"}
    cases = doc_of(INITS, lambda label, t, s: GOOD, seq_lens=(50,))["cases"]
    cases += doc_of(lstm_only, lambda label, t, s: GOOD, seq_lens=(100,))["cases"]  # no GRU at T = 100
    result = next(
        r for r in evaluate_anatomy_claims(document(cases, name="anatomy")) if r.claim.key == "jozefowicz_bias"
    )
    assert sorted(f.part for f in result.findings) == ["closes", "improves"]
    assert all("T50" in f.where and f.where.endswith(f"({f.part})") for f in result.findings)


# --- chrono beats bias 1 at long T ------------------------------------------------------------------


@pytest.mark.parametrize("chrono_mse, expected", [(GOOD, SUPPORTED), (BAD + 0.01, CONTRADICTED), (0.05, INCONCLUSIVE)])
def test_chrono_claim(chrono_mse, expected):
    def mse(label, t, s):
        if label == "lstm-chrono":
            return chrono_mse if expected != INCONCLUSIVE else (GOOD if s % 2 else BAD + 0.01)
        return 0.1 + jitter(s)

    assert verdict(doc_of(INITS, mse), "chrono_long_t")[0] == expected


def test_json_export_carries_the_measured_anatomy_claims_after_the_lecture_nine():
    import json

    from rnnbench.export.json_doc import json_report

    measured = json.loads(json_report(doc_of(INITS, lambda label, t, s: GOOD + jitter(s))))["claims"]
    keys = [c["key"] for c in measured]
    assert "chrono_long_t" in keys and "jozefowicz_bias" in keys and "greff_variants" not in keys  # no variants
    assert keys.index("chrono_long_t") > 8  # after the lecture's nine
    jozefowicz = next(c for c in measured if c["key"] == "jozefowicz_bias")
    assert {f["part"] for f in jozefowicz["findings"]} == {"improves", "closes"}
    assert all(f["part"] is None for c in measured[:9] for f in c["findings"])
    unmeasured = json.loads(json_report(doc_of(INITS, lambda label, t, s: GOOD, seq_lens=(20,))))["claims"]
    assert "chrono_long_t" not in [c["key"] for c in unmeasured]


def test_chrono_claim_not_measured_at_short_t():
    doc = doc_of(INITS, lambda label, t, s: GOOD, seq_lens=(20,))
    assert verdict(doc, "chrono_long_t")[0] == NOT_MEASURED


# --- the table --------------------------------------------------------------------------------------


def test_holm_adjusted_p_values():
    assert holm_adjusted([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjusted([0.5, 0.001]) == pytest.approx([0.5, 0.002])


def test_anatomy_rows_and_tables_render():
    doc = greff_doc(0.02)
    rows = {row.variant: row for row in anatomy_rows(doc)}
    assert set(rows) == {"nfg", "noaf", "cifg", "np"}
    scale = 1 / 6  # adding: chance-to-perfect range of MSE
    assert rows["nfg"].gap == pytest.approx(-(BAD - 0.02) / scale, abs=0.02)  # worse: negative
    assert rows["nfg"].p_holm < 0.05 and rows["cifg"].p_holm > 0.05
    assert len(rows["nfg"].units) == 8 and rows["nfg"].configurations == 2
    assert rows["nfg"].solved == (0, 8)
    console = Console(file=io.StringIO(), width=200)
    console.print(anatomy_table(doc))
    console.print(anatomy_claims_table(doc))
    text = console.file.getvalue()
    assert "LSTM anatomy" in text and "nfg (nfg)" in text and "NFG and NOAF hurt" in text


def test_no_table_without_variants():
    doc = doc_of({"lstm": {}}, lambda label, t, s: GOOD)
    assert anatomy_table(doc) is None and anatomy_claims_table(doc) is None
