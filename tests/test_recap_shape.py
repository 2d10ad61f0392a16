"""The recap in the lecture's shape: nine statements in a 3×2 table within 100 columns, verdicts marked."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from rnnbench.claims.table import CLAIMS, evaluate_claims
from rnnbench.claims.types import (
    RECAP_COLUMNS,
    RECAP_ROWS,
    SUPPORTED,
    Claim,
    ClaimResult,
    ClaimSettings,
    Finding,
    Measure,
    RecapPlace,
)
from rnnbench.render.recap_shape import MARK, decided_count, recap_shape_table, statements
from rnnbench.render.report import run_report

GOLDEN = Path(__file__).parent / "data" / "golden_v1.json"
CLAIMS_DOC = Path(__file__).resolve().parents[1] / "docs" / "claims.md"


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
    assert len(statements()) == 9
    by_key = {r.claim.key: r for r in results}
    for statement in statements():
        verdict = by_key[statement.key].verdict if statement.key in by_key else "not measured"
        assert f"{MARK[verdict]} {statement.text.split()[0]}" in flat


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


def test_every_registered_claim_has_one_place_in_the_shape() -> None:
    keys = [s.key for s in statements()]
    assert sorted(keys) == sorted(CLAIMS) and len(keys) == len(set(keys))
    for claim in CLAIMS.values():
        assert claim.recap is not None, f"{claim.key} has no place in the recap"
        assert claim.recap.column in RECAP_COLUMNS and claim.recap.row in RECAP_ROWS
    places = {(s.column, s.row, s.text) for s in statements()}
    assert len(places) == len(keys)  # no two claims state the same thing in the same cell


def _fake_rule(doc: dict, labels: tuple[str, ...], settings: ClaimSettings) -> list[Finding]:
    return [Finding("adding T=10", SUPPORTED, (Measure("fake ratio", 0.5, unit="×"),))]


def test_a_registered_claim_shows_up_in_the_recap_without_touching_recap_shape(monkeypatch) -> None:
    fake = Claim(
        "gru_fake",
        "GRU",
        "disadvantage",
        "GRU forgets its keys",
        "nothing",
        "always",
        ("gru", "lstm"),
        _fake_rule,
        recap=RecapPlace("GRU", "Disadvantage", "forgets its keys"),
    )
    monkeypatch.setitem(CLAIMS, "gru_fake", fake)
    doc = json.loads(GOLDEN.read_text())
    results = evaluate_claims(doc)
    assert [r.claim.key for r in results][-1] == "gru_fake"
    assert results[-1].verdict == SUPPORTED
    flat = " ".join(_text(results).split())
    assert "✔ forgets its keys" in flat and "fake ratio 0.5×" in flat
    assert decided_count(results) == decided_count(results[:-1]) + 1


def test_docs_claim_list_matches_the_registered_places() -> None:
    lines = CLAIMS_DOC.read_text().splitlines()
    start = lines.index("| column | row | statement | claim |") + 2
    documented = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        column, row, text, key = (c.strip() for c in line.strip("|").split("|"))
        documented.append((column, row, text, key.strip("`")))
    assert sorted(documented) == sorted((s.column, s.row, s.text, s.key) for s in statements())
