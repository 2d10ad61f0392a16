"""Longest unit first: the local and Ray executors hand out the heaviest timing groups first (the LPT rule)."""

from __future__ import annotations

from suite_texts import steps_suite

from rnnbench.run.executors.base import Plan, Unit
from rnnbench.run.executors.order import case_work, longest_first
from rnnbench.suite.expand import load_suite, timing_groups

SWEEP = steps_suite("order", [5, 9, 7], steps=4)  # three units, given lightest, heaviest, middle


def _units(write_suite, text=SWEEP):
    _, cases, _ = load_suite(write_suite(text))
    return cases, [Unit(i, group) for i, group in enumerate(timing_groups(cases))]


def test_work_grows_with_every_size_that_adds_multiplies(write_suite):
    cases, _ = _units(write_suite)
    lstm, gru = (next(c for c in cases if c.arch == a and c.seq_len == 5) for a in ("lstm", "gru"))
    assert case_work(lstm) / case_work(gru) == 4 / 3, "weight blocks: 4 for an LSTM, 3 for a GRU"
    longer = next(c for c in cases if c.arch == "lstm" and c.seq_len == 9)
    assert case_work(longer) / case_work(lstm) == 9 / 5
    wider = lstm.model_copy(update={"settings": lstm.settings.model_copy(update={"hidden_size": 16})})
    assert case_work(wider) == 4 * case_work(lstm)


def test_heaviest_unit_first_and_ties_keep_run_order(write_suite):
    _, units = _units(write_suite)
    assert [u.cases[0].seq_len for u in longest_first(units)] == [9, 7, 5]
    twins = [Unit(0, units[0].cases), Unit(1, units[0].cases)]
    assert [u.index for u in longest_first(twins)] == [0, 1]


def test_local_workers_start_the_heaviest_units_first(write_suite, tmp_path):
    from rnnbench.run.driver import run_suite

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
    lengths = [u.cases[0].seq_len for u in (Unit(i, g) for i, g in enumerate(timing_groups(cases)))]
    assert [lengths[i] for i in started] == [9, 7, 5]
    assert [c["id"] for c in doc["cases"]] == [c.id for c in cases], "saved in run order all the same"
