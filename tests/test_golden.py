"""A results file written by rnnbench 0.1.0 (schema 1) must keep loading and rendering."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from rnnbench.render.report import run_report
from rnnbench.results.store import load_results

GOLDEN = Path(__file__).parent / "data" / "golden_v1.json"


def test_golden_v1_loads_and_renders():
    doc = load_results(GOLDEN)
    assert doc["schema_version"] == 1
    assert [c["id"] for c in doc["cases"]][:2] == ["adding/T5/lstm/h8/s0", "adding/T5/gru/h8/s0"]
    assert all(c["train"]["step_ms"]["samples"] for c in doc["cases"])
    console = Console(file=io.StringIO(), width=120)
    for part in run_report(doc):
        console.print(part)
    text = console.file.getvalue()
    assert "Measured recap" in text and "bilstm" in text and "copy T3 h8" in text
