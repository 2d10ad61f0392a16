"""Unit order: timing units first, then training units heaviest first (the LPT rule), on the local and Ray executors."""

from __future__ import annotations

import pytest
from suite_texts import steps_suite

from rnnbench.run.driver import plan_units
from rnnbench.run.executors.base import Plan, Unit
from rnnbench.run.executors.order import case_work, longest_first
from rnnbench.suite.expand import load_suite, timing_groups

SWEEP = steps_suite("order", [5, 9, 7], steps=4)  # three units, given lightest, heaviest, middle


def _units(write_suite, text=SWEEP):
    _, cases, _ = load_suite(write_suite(text))
    return cases, plan_units(cases)


def test_work_grows_with_every_size_that_adds_multiplies(write_suite):
    cases, _ = _units(write_suite)
    lstm, gru = (next(c for c in cases if c.arch == a and c.seq_len == 5) for a in ("lstm", "gru"))
    assert case_work(lstm) / case_work(gru) == 4 / 3, "weight blocks: 4 for an LSTM, 3 for a GRU"
    longer = next(c for c in cases if c.arch == "lstm" and c.seq_len == 9)
    assert case_work(longer) / case_work(lstm) == 9 / 5
    wider = lstm.model_copy(update={"settings": lstm.settings.model_copy(update={"hidden_size": 16})})
    assert case_work(wider) == 4 * case_work(lstm)


def test_plan_has_a_timing_unit_per_group_then_a_training_unit_per_case(write_suite):
    cases, units = _units(write_suite)
    groups = timing_groups(cases)
    assert [u.kind for u in units].count("timing") == len(groups)
    assert [u.cases for u in units if u.kind == "timing"] == groups
    assert [u.cases[0] for u in units if u.kind == "train"] == cases, "one training unit per case, in run order"
    assert [u.index for u in units] == list(range(len(units))), "indices number the units in run order"


def test_timings_first_then_heaviest_training_and_ties_keep_run_order(write_suite):
    _, units = _units(write_suite)
    ordered = longest_first(units)
    kinds = [u.kind for u in ordered]
    assert kinds == sorted(kinds, key=lambda k: k != "timing"), "every timing unit before any training unit"
    trained = [u.cases[0] for u in ordered if u.kind == "train"]
    assert [(c.arch, c.seq_len) for c in trained] == [
        ("lstm", 9),
        ("lstm", 7),  # 4 weight blocks x 7 steps outweigh a GRU's 3 x 9
        ("gru", 9),
        ("gru", 7),
        ("lstm", 5),
        ("gru", 5),
    ]
    twins = [Unit(0, units[1].cases, "train"), Unit(1, units[1].cases, "train")]
    assert [u.index for u in longest_first(twins)] == [0, 1]


@pytest.mark.processes
def test_local_workers_start_the_heaviest_training_first(write_suite, tmp_path):
    from rnnbench.run.driver import run_suite  # noqa: I001

    suite, cases, path = load_suite(write_suite(SWEEP))
    started = []
    doc = run_suite(
        suite,
        cases,
        tmp_path / "r.json",
        suite_path=str(path),
        plan=Plan("local", 2, None),
        on_event=lambda e: started.append(e["index"]) if e["kind"] == "unit_start" else None,
    )
    units = plan_units(cases)
    trained = [units[i].cases[0] for i in started if units[i].kind == "train"]
    works = [case_work(c) for c in trained]
    assert works == sorted(works, reverse=True) and len(trained) == len(cases)
    assert [c["id"] for c in doc["cases"]] == [c.id for c in cases], "saved in run order all the same"
