"""Markdown, CSV and JSON exports parse back to the same numbers; `rnnbench report` through the CLI."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from results_factory import case, document, seeds
from typer.testing import CliRunner

from rnnbench.claims.table import evaluate_claims
from rnnbench.claims.types import NOT_MEASURED
from rnnbench.cli.main import app
from rnnbench.export.csv_rows import csv_report
from rnnbench.export.json_doc import json_report
from rnnbench.export.markdown import markdown_report
from rnnbench.export.markdown_table import table_markdown
from rnnbench.export.registry import export_results as export
from rnnbench.render.claims import claims_table
from rnnbench.render.format import format_count

runner = CliRunner()


@pytest.fixture
def doc() -> dict:
    """LSTM, GRU, Bi-LSTM over 3 seeds, one failed case, GRU faster and Bi-LSTM slower per step."""
    cases = []
    for s in seeds():
        cases += [
            case("lstm", seed=s, step_ms=10.0, metric=0.02 + s / 1000),
            case("gru", seed=s, step_ms=7.0, metric=0.03 + s / 1000, solved=True, ms_to_solve=400.0 + s),
            case("bilstm", seed=s, step_ms=19.0, metric=0.001 * (s + 1)),
        ]
    failed = case("gru", seed=3)
    failed.update(status="failed", error="RuntimeError: out of memory")
    for key in ("train", "inference", "n_params", "n_core_params", "gates", "backend", "memory"):
        failed.pop(key)
    return document(cases + [failed])


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Every `### title` followed by a table, as rows of cells (header row first, separator dropped)."""
    tables: dict[str, list[list[str]]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("### "):
            title = line[4:]
            tables[title] = []
        elif line.startswith("|") and title is not None and not re.fullmatch(r"\|(-{3}:?\|)+", line):
            tables[title].append([c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return tables


def test_markdown_claims_table_parses_back_to_the_verdicts_and_numbers(doc):
    tables = markdown_tables(markdown_report(doc))
    claims = tables["The recap claims, measured"]
    assert claims[0] == ["", "claim", "evidence", "verdict"]
    results = evaluate_claims(doc)
    assert len(claims) - 1 == len(results)
    for row, result in zip(claims[1:], results):
        assert row[1] == result.claim.text
        assert row[3].split("<br>")[0] == f"**{result.verdict}**"
        assert row[2].split("<br>") == (result.evidence_lines() or ["—"])
    gru_faster = next(r for r in results if r.claim.key == "gru_faster")
    step = gru_faster.findings[0].measures[0]
    row = claims[1 + results.index(gru_faster)]
    shown = float(re.search(r"train step gru/lstm ([0-9.]+)×", row[2]).group(1))
    assert shown == pytest.approx(step.value, rel=5e-3) and step.value == pytest.approx(0.7)


def test_markdown_recap_table_shows_the_recap_numbers(doc):
    tables = markdown_tables(markdown_report(doc))
    recap = tables["Measured recap — hand"]
    assert recap[0][1:] == ["lstm", "gru", "bilstm"]
    params = next(r for r in recap if r[0] == "parameters")
    expected = [
        format_count(next(c["n_params"] for c in doc["cases"] if c["arch"] == a)) for a in ("lstm", "gru", "bilstm")
    ]
    assert params[1:] == expected


def test_table_markdown_escapes_pipes_and_keeps_bold():
    results = evaluate_claims(document([case("lstm"), case("gru")]))
    text = table_markdown(claims_table(results))
    assert "**supported**" in text and "**not measured**" in text
    assert all(line.count("|") - line.count("\\|") == 5 for line in text.splitlines() if line.startswith("|"))


def test_csv_has_one_row_per_case_with_exact_numbers(doc):
    rows = list(csv.DictReader(io.StringIO(csv_report(doc))))
    assert [r["id"] for r in rows] == [c["id"] for c in doc["cases"]]
    for row, record in zip(rows, doc["cases"]):
        assert row["status"] == record["status"]
        if record["status"] != "ok":
            assert row["step_ms_median"] == "" and row["error"] == record["error"]
            continue
        assert float(row["step_ms_median"]) == record["train"]["step_ms"]["median"]
        assert [float(row["step_ms_ci_low"]), float(row["step_ms_ci_high"])] == record["train"]["step_ms"]["ci95"]
        assert float(row["infer_b1_ms_median"]) == record["inference"]["b1"]["latency_ms"]["median"]
        assert float(row["infer_b4_seq_per_s"]) == record["inference"]["b4"]["seq_per_s"]
        assert float(row["final_metric"]) == record["train"]["final"]["metric"]
        assert row["solved"] == str(record["train"]["final"]["solved"]).lower()
        assert int(row["n_params"]) == record["n_params"] and int(row["seq_len"]) == record["seq_len"]
        ms = record["train"]["ms_to_solve"]
        assert (row["ms_to_solve"] == "") if ms is None else (float(row["ms_to_solve"]) == ms)


def test_json_holds_every_claim_with_its_numbers(doc):
    data = json.loads(json_report(doc))
    results = evaluate_claims(doc)
    assert data["suite"] == "hand" and data["env"]["torch"] == "2.13.0+cpu"
    assert [c["key"] for c in data["claims"]] == [r.claim.key for r in results]
    for exported, result in zip(data["claims"], results):
        assert exported["verdict"] == result.verdict and exported["context"]["device"] == "cpu"
        values = [m["value"] for f in exported["findings"] for m in f["measures"]]
        assert values == [m.value for f in result.findings for m in f.measures]
        bounds = [(m["low"], m["high"]) for f in exported["findings"] for m in f["measures"]]
        assert bounds == [(m.low, m.high) for f in result.findings for m in f.measures]


def test_export_rejects_an_unknown_format(doc):
    with pytest.raises(ValueError, match="unknown format"):
        export(doc, "xml")


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def results_file(tmp_path, doc):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    return path


def test_report_prints_the_recap_then_the_claims(results_file):
    result = runner.invoke(app, ["report", str(results_file), "--details"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.index("Measured recap") < result.output.index("The recap claims, measured")
    assert "GRU is faster to train" in result.output


def test_report_says_not_measured_for_claims_whose_cases_are_missing(results_file):
    result = runner.invoke(app, ["report", str(results_file), "--details"], env={"COLUMNS": "200"})
    line = next(line for line in result.output.splitlines() if "LSTM captures long-term dependencies" in line)
    assert "not measured" in line  # the suite has no tanh RNN and no seq_len sweep
    assert "no rnn cases" in result.output
    data = json.loads(runner.invoke(app, ["report", str(results_file), "--format", "json"]).stdout)
    verdicts = {c["key"]: c["verdict"] for c in data["claims"]}
    assert verdicts["lstm_long_term"] == verdicts["gru_short_term"] == verdicts["gru_similar_less_data"] == NOT_MEASURED


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_report_format_to_stdout_and_to_a_file(results_file, tmp_path, doc, fmt):
    to_stdout = runner.invoke(app, ["report", str(results_file), "--format", fmt])
    assert to_stdout.exit_code == 0, to_stdout.output
    assert to_stdout.stdout == export(doc, fmt)
    out = tmp_path / "sub" / f"report.{fmt}"
    to_file = runner.invoke(app, ["report", str(results_file), "--format", fmt, "--out", str(out)])
    assert to_file.exit_code == 0 and out.read_text() == export(doc, fmt)


def test_report_errors_are_one_line_with_exit_2(results_file, tmp_path):
    cases = [
        ["report", str(tmp_path / "missing.json")],
        ["report", str(results_file), "--format", "xml"],
        ["report", str(results_file), "--out", str(tmp_path / "x.md")],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
