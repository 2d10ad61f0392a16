"""Per-task seeds: a task entry's `seeds` replace the suite's for its cases, in expansion, the case limit and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.results.resume import check_resume_suite
from rnnbench.results.schema import ResultsError
from rnnbench.suite.expand import load_suite, seeds_of
from rnnbench.suite.files import SuiteError

cli = CliRunner()

SUITE = """
name: t
seeds: [0, 1]
models: [lstm, gru, rnn]
tasks:
  - {task: adding, seq_len: 5}
  - {task: adding, seq_len: 6, models: [lstm, gru], seeds: [3, 4, 5]}
"""


def test_a_task_entrys_seeds_replace_the_suites_for_its_cases_only(write_suite):
    suite, cases, _ = load_suite(write_suite(SUITE))
    by_len = {t: [(c.arch, c.seed) for c in cases if c.seq_len == t] for t in (5, 6)}
    assert by_len[5] == [(a, s) for a in ("lstm", "gru", "rnn") for s in (0, 1)]
    assert by_len[6] == [(a, s) for a in ("lstm", "gru") for s in (3, 4, 5)]
    assert "adding/T6/gru/h64/s5" in {c.id for c in cases}
    assert [seeds_of(suite, task) for task in suite.tasks] == [[0, 1], [3, 4, 5]]


def test_per_task_seeds_apply_at_every_matrix_point(write_suite):
    _, cases, _ = load_suite(write_suite(SUITE + "matrix: {hidden_size: [8, 16]}\n"))
    assert sorted(c.seed for c in cases if c.seq_len == 6 and c.arch == "lstm") == [3, 3, 4, 4, 5, 5]
    assert len(cases) == 2 * (3 * 2 + 2 * 3)


def test_the_case_limit_counts_per_task_seeds_and_models(write_suite):
    # 3 models x 2 suite seeds + 2 models x 3 task seeds = 12: the limit sees exactly what expands
    path = write_suite(SUITE)
    with pytest.raises(SuiteError, match="expands to 12 cases, more than the limit of 11"):
        load_suite(path, max_cases=11)
    assert len(load_suite(path, max_cases=12)[1]) == 12
    many = write_suite(SUITE.replace("seeds: [3, 4, 5]", f"seeds: {list(range(100))}"), "many.yaml")
    with pytest.raises(SuiteError, match="expands to 206 cases"):
        load_suite(many, max_cases=205)


@pytest.mark.parametrize(
    "seeds, expected",
    [
        ("[3, 3]", "tasks[1].seeds: seeds must be distinct"),
        ("[]", "tasks[1].seeds: List should have at least 1 item"),
        ("[-1]", "tasks[1].seeds[0]: Input should be greater than or equal to 0"),
        ("[4294967296]", "tasks[1].seeds[0]: Input should be less than 4294967296"),
        ("[true]", "tasks[1].seeds[0]: Input should be a valid integer"),
        ("three", "tasks[1].seeds: Input should be a valid list"),
    ],
)
def test_bad_task_seeds_are_one_line_naming_the_field(write_suite, seeds, expected):
    path = write_suite(SUITE.replace("[3, 4, 5]", seeds))
    for command in ("validate", "run"):
        result = cli.invoke(app, [command, str(path)])
        output = result.output.strip()
        assert result.exit_code == 2, output
        assert "Traceback" not in output and "\n" not in output, output
        assert output.startswith(f"error: {path}: ") and expected in output


def test_validate_shows_the_per_task_case_count(write_suite):
    result = cli.invoke(app, ["validate", str(write_suite(SUITE))])
    assert result.exit_code == 0, result.output
    assert "suite t, 12 cases" in " ".join(result.output.split())
    assert sum(line.strip().startswith("adding/T6/") for line in result.output.splitlines()) == 6


def test_resume_reads_a_file_without_task_seeds_as_the_suites_seeds(write_suite):
    # a file written before `seeds` existed on task entries lacks the key; the suite now dumps None there
    suite, cases, _ = load_suite(write_suite(SUITE.replace(", seeds: [3, 4, 5]", "")))
    now = suite.model_dump(mode="json")
    old = json.loads(json.dumps(now))
    for task in old["tasks"]:
        del task["seeds"]
    doc = {"suite": old, "cases": []}
    check_resume_suite("r.json", doc, now, [c.id for c in cases])
    changed = json.loads(json.dumps(now))
    changed["tasks"][1]["seeds"] = [7]
    with pytest.raises(ResultsError, match=r"tasks\[1\].seeds: null in the file, \[7\] now"):
        check_resume_suite("r.json", doc, changed, [c.id for c in cases])


def test_resume_reads_a_setting_added_since_at_its_default(write_suite):
    # a file written before `timing.processes` existed: resumable while the suite keeps the default
    suite, cases, _ = load_suite(write_suite(SUITE))
    now = suite.model_dump(mode="json")
    old = json.loads(json.dumps(now))
    del old["defaults"]["timing"]["processes"]
    check_resume_suite("r.json", {"suite": old, "cases": []}, now, [c.id for c in cases])
    now["defaults"]["timing"]["processes"] = 6
    with pytest.raises(ResultsError, match=r"defaults.timing.processes: 1 in the file, 6 now"):
        check_resume_suite("r.json", {"suite": old, "cases": []}, now, [c.id for c in cases])


def test_recap_gives_the_train_size_sweep_14_seeds_and_only_lstm_and_gru():
    _, cases, _ = load_suite("recap")
    sweep = [c for c in cases if c.settings.train_size is not None]
    assert {c.settings.train_size for c in sweep} == {64, 1024}
    for size in (64, 1024):
        for arch in ("lstm", "gru"):
            assert sorted(c.seed for c in sweep if c.settings.train_size == size and c.arch == arch) == list(range(14))
    assert {c.arch for c in sweep} == {"lstm", "gru"}
    assert {c.seed for c in cases if c.settings.train_size is None} == {0, 1, 2}


def _claims_audit():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "stats_audit_claims.py"
    spec = importlib.util.spec_from_file_location("stats_audit_claims", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_claims_audit_simulates_the_recaps_design():
    import numpy as np

    audit = _claims_audit()
    _, cases, _ = load_suite("recap")
    doc = audit.recap_like(np.random.default_rng(0), audit.design("recap"), rounds=5)
    assert [c["id"] for c in doc["cases"]] == [c.id for c in cases], "the suite's cases, seeds and models"
    header = audit.header(audit.design("recap"))
    assert "temporal_order T30/n64,T30/n1024: 14 seeds (lstm gru)" in header
    assert "adding T10,T25,T50,T100: 3 seeds (rnn lstm gru bilstm)" in header
    # --seeds overrides every configuration
    assert {len(c.seeds) for c in audit.design("recap", seeds=5)} == {5}
