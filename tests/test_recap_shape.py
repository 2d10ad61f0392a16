"""The recap in the lecture's shape: nine statements in a 3×2 table within 100 columns, verdicts marked."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from rnnbench.claims.table import evaluate_claims
from rnnbench.claims.types import SUPPORTED, ClaimResult
from rnnbench.render.recap_shape import MARK, STATEMENTS, recap_shape_table
from rnnbench.render.report import run_report

GOLDEN = Path(__file__).parent / "data" / "golden_v1.json"


def _text(results: list[ClaimResult]) -> str:
    console = Console(width=100, record=True)
    console.print(recap_shape_table(results))
    return console.export_text()


def test_nine_statements_fit_100_columns_and_carry_their_verdicts() -> None:
    results = evaluate_claims(json.loads(GOLDEN.read_text()))
    text = _text(results)
    assert max(len(line) for line in text.splitlines()) <= 100
    flat = " ".join(text.split())
    for column in ("LSTM", "GRU", "Bi-LSTM", "Advantage", "Disadvantage"):
        assert column in text
    assert len(STATEMENTS) == 9
    by_key = {r.claim.key: r for r in results}
    for _, _, statement, key in STATEMENTS:
        verdict = by_key[key].verdict if key in by_key else "not measured"
        assert f"{MARK[verdict]} {statement.split()[0]}" in flat


def test_a_changed_verdict_changes_its_mark() -> None:
    results = evaluate_claims(json.loads(GOLDEN.read_text()))
    gates = next(r for r in results if r.claim.key == "lstm_gates")
    flipped = [r if r is not gates else ClaimResult(r.claim, "contradicted", "x", r.findings) for r in results]
    assert gates.verdict == SUPPORTED
    assert "✔ complex structure" in " ".join(_text(results).split())
    assert "✘ complex structure" in " ".join(_text(flipped).split())


def test_report_prints_the_shape_first() -> None:
    parts = run_report(json.loads(GOLDEN.read_text()))
    assert parts[0].title == "The recap, measured"
