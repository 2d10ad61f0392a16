"""Memory horizon and data efficiency on hand-made results, their tables, and the sweep suites."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rnnbench.analysis.sweeps import MetricSpread, data_efficiency, horizon_of, horizons
from rnnbench.catalog import TASK_SPECS
from rnnbench.render.analysis import data_table, horizon_table, matched_table
from rnnbench.render.report import run_report
from rnnbench.suite.expand import load_suite


def case(
    task="adding", label="lstm", seq_len=10, seed=0, status="ok", solved=False, metric=0.5, train_size=None, options=""
):
    parts = [task + options, f"T{seq_len}", label, "h8"] + ([f"n{train_size}"] if train_size else []) + [f"s{seed}"]
    record = {
        "id": "/".join(parts),
        "label": label,
        "arch": label.split("-")[0],
        "task": task,
        "seq_len": seq_len,
        "seed": seed,
        "status": status,
        "train_size": train_size,
    }
    if status in ("ok", "diverged"):
        final = {
            "metric": metric if status == "ok" else None,
            "solved": solved and status == "ok",
            "metric_name": "mse",
            "higher_is_better": False,
        }
        record["train"] = {"final": final}
    return record


def doc(*cases, name="hand"):
    return {"suite": {"name": name}, "env": {"device": "cpu"}, "cases": list(cases)}


def render(table) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(table)
    return console.file.getvalue()


def sweep(label, solved_by_len, task="adding", **kw):
    """Cases for one label: seq_len -> list of per-seed outcomes (True/False or a status string)."""
    out = []
    for seq_len, outcomes in solved_by_len.items():
        for seed, outcome in enumerate(outcomes):
            status = outcome if isinstance(outcome, str) else "ok"
            out.append(case(task, label, seq_len, seed, status, solved=outcome is True, **kw))
    return out


# --- memory horizon -------------------------------------------------------------------------------


def test_horizon_is_longest_contiguous_majority():
    results = horizons(doc(*sweep("lstm", {10: [True, True, True], 20: [True, True, False], 40: [False, True, False]})))
    r = results[("adding h8", "lstm")]
    assert r.by_seq_len == {10: (3, 3), 20: (2, 3), 40: (1, 3)}
    assert (r.horizon, r.gaps, r.censored) == (20, (), False)


def test_exactly_half_counts_as_solved():
    r = horizons(doc(*sweep("gru", {5: [True, False], 50: [True, True, False, False], 500: [False, False]})))[
        ("adding h8", "gru")
    ]
    assert r.horizon == 50 and r.is_solved(5) and r.is_solved(50) and not r.is_solved(500)


def test_gap_is_reported_not_counted():
    r = horizons(doc(*sweep("rnn", {10: [True, True], 20: [False, False], 40: [True, True]})))[("adding h8", "rnn")]
    assert (r.horizon, r.gaps, r.censored) == (10, (40,), False)


def test_unsolved_shortest_gives_none_and_solved_longest_is_censored():
    results = horizons(doc(*sweep("rnn", {10: [False], 20: [True]}), *sweep("lstm", {10: [True], 20: [True]})))
    assert (results[("adding h8", "rnn")].horizon, results[("adding h8", "rnn")].gaps) == (None, (20,))
    assert (results[("adding h8", "lstm")].horizon, results[("adding h8", "lstm")].censored) == (20, True)


def test_failed_and_diverged_runs_count_as_unsolved_interrupted_ones_not_at_all():
    cases = sweep("lstm", {10: [True, "failed", "diverged"], 20: [True, True, "interrupted"]})
    r = horizons(doc(*cases))[("adding h8", "lstm")]
    assert r.by_seq_len == {10: (1, 3), 20: (2, 2)}
    assert r.failed == {10: 2} and r.interrupted == {20: 1}
    assert (r.horizon, r.gaps) == (None, (20,))


def test_runs_cut_by_the_time_cap_are_flagged():
    cut, full, solved_early = case(seq_len=10), case(seq_len=10, seed=1), case(seq_len=10, seed=2, solved=True)
    for record, steps in ((cut, 300), (full, 1000), (solved_early, 200)):
        record["settings"] = {"train": {"max_steps": 1000}}
        record["train"]["steps"] = steps
    r = horizons(doc(cut, full, solved_early))[("adding h8", "lstm")]
    assert r.by_seq_len == {10: (1, 3)} and r.time_capped == {10: 1}
    assert "1/3†" in render(horizon_table(doc(cut, full, solved_early, case(seq_len=20))))


def test_solved_flag_of_a_non_ok_case_is_ignored():
    bad = case(seq_len=10, status="diverged")
    bad["train"]["final"]["solved"] = True  # inconsistent record: status wins
    assert horizons(doc(bad))[("adding h8", "lstm")].by_seq_len == {10: (0, 1)}


def test_groups_split_by_task_options_and_label():
    cases = [case("temporal_order", "lstm", 10, solved=True), case("temporal_order", "lstm", 10, options="-symbols=3")]
    cases += [case("adding", "lstm-cell", 10, solved=True)]
    assert set(horizons(doc(*cases))) == {
        ("temporal_order h8", "lstm"),
        ("temporal_order-symbols=3 h8", "lstm"),
        ("adding h8", "lstm-cell"),
    }


def test_horizon_is_per_configuration_never_pooled_over_hidden_sizes():
    # audit counterexample: hidden 8 solves 0/3 at T25, hidden 16 3/3; pooled that read "3/6" and horizon 25
    cases = []
    for hidden, solved in ((8, False), (16, True)):
        for record in sweep("lstm", {10: [True] * 3, 25: [solved] * 3}):
            record["id"] = record["id"].replace("/h8/", f"/h{hidden}/")
            cases.append(record)
    results = horizons(doc(*cases))
    assert set(results) == {("adding h8", "lstm"), ("adding h16", "lstm")}
    assert results[("adding h8", "lstm")].by_seq_len == {10: (3, 3), 25: (0, 3)}
    assert results[("adding h8", "lstm")].horizon == 10
    assert results[("adding h16", "lstm")].by_seq_len == {10: (3, 3), 25: (3, 3)}
    assert all(counts != (3, 6) for r in results.values() for counts in r.by_seq_len.values())
    text = render(horizon_table(doc(*cases)))
    assert "3/6" not in text and "adding h8" in text and "adding h16" in text


def test_horizon_leaves_interrupted_runs_out_of_the_denominator_and_says_so():
    # audit counterexample: 1 solved + 2 interrupted read "1/1"; the table must say the 2 were not counted
    cases = sweep("lstm", {10: [True, True, True], 25: [True, "interrupted", "interrupted"]})
    r = horizons(doc(*cases))[("adding h8", "lstm")]
    assert r.by_seq_len[25] == (1, 1) and r.interrupted == {25: 2}
    assert "1/1 (2 interrupted, not counted)" in render(horizon_table(doc(*cases)))
    # a seq_len with only interrupted runs is unknown: it breaks the horizon instead of being skipped
    gap = sweep("lstm", {10: [True] * 3, 25: ["interrupted"] * 3, 50: [True] * 3})
    g = horizons(doc(*gap))[("adding h8", "lstm")]
    assert g.by_seq_len[25] == (0, 0) and g.horizon == 10 and not g.censored


def test_horizon_of_empty_and_all_unsolved():
    assert horizon_of({}) == (None, (), False)
    assert horizon_of({5: (0, 3), 9: (1, 3)}) == (None, (), False)


def test_horizon_table_shows_counts_and_horizon():
    text = render(
        horizon_table(
            doc(
                *sweep("rnn", {10: [True, False], 20: [False, False], 40: [True, True]}),
                *sweep("lstm", {10: [True, True], 20: [True, True], 40: [True, "failed"]}),
                *sweep("lstm", {10: [False, False], 20: [False, False], 40: [False, False]}, task="copy"),
            )
        )
    )
    assert "T=10" in text and "T=40" in text
    rnn_row = next(line for line in text.splitlines() if " rnn " in line)
    assert "1/2" in rnn_row and "0/2" in rnn_row and "10 (also 40)" in rnn_row
    lstm_row = next(line for line in text.splitlines() if " lstm " in line)  # adding comes first
    assert "1/2*" in lstm_row and "≥ 40" in lstm_row
    copy_row = next(line for line in text.splitlines() if "copy" in line)
    assert "< 10" in copy_row


def test_horizon_table_needs_a_sweep():
    assert horizon_table(doc(*sweep("lstm", {10: [True, True]}))) is None
    assert horizon_table(doc()) is None


# --- data efficiency ------------------------------------------------------------------------------


def test_data_efficiency_median_and_range_of_ok_runs():
    cases = [
        case(label="gru", seed=0, metric=0.3, train_size=100),
        case(label="gru", seed=1, metric=0.1, train_size=100),
        case(label="gru", seed=2, metric=0.2, train_size=100),
        case(label="gru", seed=0, metric=0.05, train_size=1000),
        case(label="gru", seed=1, status="diverged", train_size=1000),
        case(label="gru", seed=2, status="failed", train_size=1000),
        case(label="gru", seed=3, metric=0.01, train_size=1000),
        case(label="gru", seed=0, metric=0.9, train_size=None),  # fresh data: not part of the sweep
    ]
    result = data_efficiency(doc(*cases))[("adding T10 h8", "gru")]
    assert sorted(result) == [100, 1000]
    assert result[100] == MetricSpread(0.2, 0.1, 0.3, 3, (0.3, 0.1, 0.2), (0, 1, 2), 3, "mse", False)
    assert (result[1000].median, result[1000].low, result[1000].high) == pytest.approx((0.03, 0.01, 0.05))
    assert (result[1000].n, result[1000].n_runs, result[1000].values) == (2, 4, (0.05, 0.01))


def test_data_efficiency_ties_and_sizes_without_ok_runs():
    cases = [case(seed=s, metric=0.5, train_size=64) for s in range(3)]
    cases += [case(seed=0, status="diverged", train_size=128)]
    result = data_efficiency(doc(*cases))
    assert result[("adding T10 h8", "lstm")] == {
        64: MetricSpread(0.5, 0.5, 0.5, 3, (0.5, 0.5, 0.5), (0, 1, 2), 3, "mse", False)
    }
    assert data_efficiency(doc(case(train_size=None))) == {}


def test_data_table_shows_median_range_and_missing_runs():
    cases = [case(label="lstm", seed=s, metric=m, train_size=64) for s, m in enumerate((0.2, 0.4, 0.3))]
    cases += [
        case(label="lstm", seed=0, metric=0.05, train_size=512),
        case(label="lstm", seed=1, status="failed", train_size=512),
    ]
    text = render(data_table(doc(*cases)))
    assert "n=64" in text and "n=512" in text and "mse ↓" in text
    assert "0.300 [0.200–0.400]" in text
    assert "0.050 1/2" in text


def test_data_table_needs_a_sweep():
    assert data_table(doc(case(train_size=64), case(seed=1, train_size=64))) is None


# --- matched sizes and the report ----------------------------------------------------------------


def test_matched_table_and_report_include_the_analyses():
    lstm = case(seq_len=10, solved=True)
    rnn = case(label="rnn", seq_len=10)
    rnn["matched"] = {
        "reference": "lstm",
        "target_params": 384,
        "hidden_size": 18,
        "n_params": 378,
        "rel_error": -6 / 384,
        "counted": "core",
    }
    text = render(matched_table(doc(lstm, rnn)))
    assert "lstm" in text and "384" in text and "18" in text and "378" in text and "-1.6%" in text
    assert matched_table(doc(lstm)) is None
    titles = [getattr(part, "title", None) for part in run_report(doc(lstm, rnn, case(seq_len=20)))]
    assert "Parameter matching" in titles and any(t and t.startswith("Memory horizon") for t in titles)


# --- the sweep suites ------------------------------------------------------------------------------


def test_horizon_suite_sweeps_seq_len_on_adding_and_copy():
    suite, cases, _ = load_suite("horizon")
    assert {m.arch for m in suite.models} == {"rnn", "lstm", "gru", "bilstm"}
    assert {c.task for c in cases} == {"adding", "copy"}
    for task in ("adding", "copy"):
        assert len({c.seq_len for c in cases if c.task == task}) >= 3


def test_data_suite_sweeps_train_size():
    suite, cases, _ = load_suite("data")
    assert len({c.settings.train_size for c in cases}) >= 3
    assert {"lstm", "gru"} <= {m.arch for m in suite.models}


def test_tasks_suite_touches_every_task():
    _, cases, _ = load_suite("tasks")
    # the tasks over your own files need a file: examples/series and examples/text run them
    assert {c.task for c in cases} == {name for name, spec in TASK_SPECS.items() if not spec.reads_file}
