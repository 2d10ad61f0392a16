"""Every documented matrix key expands into distinct case ids that show the swept value; other keys are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnbench.analysis.grouping import section_key, sweep_config
from rnnbench.suite.expand import load_suite, model_key, timing_groups
from rnnbench.suite.files import SuiteError
from rnnbench.suite.schema import MATRIX_KEYS

REPO = Path(__file__).resolve().parents[1]

# Defaults away from CaseSettings' own (batch 64, lr 0.001), as the built-in suites have them.
BASE = """
name: t
seeds: [0, 1]
defaults: {batch_size: 32, optimizer: {name: adam, lr: 0.01}}
models: [lstm, gru]
tasks: [{task: adding, seq_len: 5}]
"""

# key -> (the unswept value, a swept one, how the swept one shows in every id)
SWEEPS = {
    "seq_len": (5, 9, "/T9/"),
    "hidden_size": (64, 16, "/h16/"),
    "num_layers": (1, 2, "/L2/"),
    "batch_size": (32, 8, "/b8/"),
    "train_size": (None, 512, "/n512/"),
    "impl": ("fused", "cell", "-cell/"),
    "lr": (0.01, 0.001, "/lr0.001/"),
    "forget_bias": (None, 1.0, "-fb1/"),
}


def _value(case, key):
    if key == "seq_len":
        return case.seq_len
    if key == "lr":
        return case.settings.optimizer.lr
    return getattr(case.settings, key)


def _error(write_suite, text: str) -> str:
    path = write_suite(text)
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, "one line naming the file"
    return message


def test_every_documented_sweep_key_is_covered():
    assert set(SWEEPS) == set(MATRIX_KEYS)
    docs = (REPO / "docs" / "suite-format.md").read_text()
    for key in MATRIX_KEYS:
        assert f"`{key}`" in docs, f"docs/suite-format.md lists sweep key {key}"


@pytest.mark.parametrize("key", sorted(SWEEPS))
def test_sweep_shows_its_value_only_where_it_differs(write_suite, key):
    unswept, swept, shown = SWEEPS[key]
    _, plain, _ = load_suite(write_suite(BASE, "plain.yaml"))
    axis = json.dumps([unswept, swept])  # JSON is YAML: null, numbers and strings read back as written
    _, cases, _ = load_suite(write_suite(BASE + f"matrix: {{{key}: {axis}}}\n"))
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids) == 2 * len(plain)
    at_unswept, at_swept = cases[: len(plain)], cases[len(plain) :]
    assert [c.id for c in at_unswept] == [c.id for c in plain], "a point equal to the default keeps the id"
    assert all(_value(c, key) == unswept for c in at_unswept)
    assert all(_value(c, key) == swept and shown in c.id for c in at_swept)
    assert not {c.id for c in at_swept} & {c.id for c in plain}


def test_unswept_value_is_each_entry_own(write_suite):
    # A model entry's or task entry's batch size is its default: the id shows only what the matrix changed.
    _, cases, _ = load_suite(
        write_suite(
            """
            name: t
            defaults: {batch_size: 32}
            models: [lstm, {arch: gru, batch_size: 8, optimizer: {name: sgd, lr: 0.1}}]
            tasks: [{task: adding, seq_len: 5}, {task: copy, seq_len: 3, batch_size: 16}]
            matrix: {batch_size: [8, 32], lr: [0.1]}
            """
        )
    )
    by_id = {c.id: c for c in cases}
    assert list(by_id) == [
        "adding/T5/lstm/h64/b8/lr0.1/s0",
        "adding/T5/gru/h64/s0",
        "adding/T5/lstm/h64/lr0.1/s0",
        "adding/T5/gru/h64/b32/s0",
        "copy/T3/lstm/h64/b8/lr0.1/s0",
        "copy/T3/gru/h64/b8/s0",
        "copy/T3/lstm/h64/b32/lr0.1/s0",
        "copy/T3/gru/h64/b32/s0",
    ]
    gru = by_id["adding/T5/gru/h64/b32/s0"].settings
    assert (gru.optimizer.name, gru.optimizer.lr, gru.batch_size) == ("sgd", 0.1, 32), "lr keeps the entry's optimizer"


def test_null_in_a_matrix_is_a_value(write_suite):
    text = BASE.replace("tasks: [{task: adding, seq_len: 5}]", "tasks: [{task: adding, seq_len: 5, train_size: 64}]")
    _, cases, _ = load_suite(write_suite(text + "matrix: {train_size: [null, 64]}\n"))
    assert [c.settings.train_size for c in cases[:4]] == [None] * 4
    assert "/n" not in cases[0].id and cases[-1].id.endswith("/n64/s1")


def test_batch_and_lr_sweeps_group_as_configurations(write_suite):
    _, cases, _ = load_suite(write_suite(BASE + "matrix: {seq_len: [5, 9], batch_size: [32, 8], lr: [0.01, 0.1]}\n"))
    records = [{"id": c.id, "task": c.task} for c in cases]
    assert len({section_key(r) for r in records}) == 2 * 2 * 2
    # a horizon lines up the seq_lens of one batch size and lr, never pools two of them
    horizon = {}
    for case, record in zip(cases, records, strict=True):
        horizon.setdefault(sweep_config(record, "seq_len"), set()).add(
            (case.settings.batch_size, case.settings.optimizer.lr, case.seq_len)
        )
    assert len(horizon) == 4 and all(len({p[:2] for p in points}) == 1 for points in horizon.values())
    assert {sweep_config(r, "train_size") for r in records} == {section_key(r).replace("/", " ") for r in records}


def test_timing_groups_never_pair_two_batch_sizes(write_suite):
    _, cases, _ = load_suite(
        write_suite(BASE + "matrix: {batch_size: [32, 8], lr: [0.01, 0.1], hidden_size: [8, 16]}\n")
    )
    groups = timing_groups(cases)
    assert sorted(len({c.settings.batch_size for c in g}) for g in groups) == [1] * len(groups)
    assert {c.settings.batch_size for g in groups for c in g} == {8, 32}
    for group in groups:
        timed_once = {}
        for case in group:  # seeds of one model share a timing, so they must share every setting
            timed_once.setdefault(model_key(case), set()).add(case.settings.model_dump_json())
        assert all(len(settings) == 1 for settings in timed_once.values())


@pytest.mark.parametrize(
    "key, values",
    [
        ("grad_clip", "[1.0, null]"),
        ("optimizer", "[sgd]"),
        ("dtype", "[bfloat16]"),
        ("threads", "[1, 2]"),
        ("device", "[cpu]"),
        ("timing", "[{warmup: 1}]"),
        ("inference", "[{batch_sizes: [1]}]"),
        ("train", "[{max_steps: 5}]"),
        ("packed", "[true, false]"),
        ("match_params", "[gru]"),
        ("seeds", "[[0], [1]]"),
        ("symbols", "[2, 3]"),
    ],
)
def test_other_keys_are_not_sweep_keys(write_suite, key, values):
    message = _error(write_suite, BASE + f"matrix: {{{key}: {values}}}\n")
    assert f"matrix.{key}: not a sweep key" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        (BASE + "matrix: {batch_size: [8, 8]}\n", "matrix: axis 'batch_size' repeats a value"),
        (
            "name: t\nmodels: [{arch: gru, match_params: lstm}]\ntasks: [{task: adding, seq_len: 5}]\n"
            "matrix: {hidden_size: [8, 16]}\n",
            "matrix.hidden_size: models[0] picks its hidden size by match_params",
        ),
        (
            "name: t\nmodels: [{arch: peephole, impl: cell}]\ntasks: [{task: adding, seq_len: 5}]\n"
            "matrix: {impl: [cell, fused]}\n",
            "matrix.impl: models[0] peephole has no 'fused' implementation",
        ),
        (
            "name: t\nmodels: ['examples.mingru.mingru:MinGRU']\ntasks: [{task: adding, seq_len: 5}]\n"
            "matrix: {forget_bias: [1.0, 2.0]}\n",
            "matrix.forget_bias: not available for plugin",
        ),
        (
            "name: t\nmodels: [lstm, 'examples.mingru.mingru:MinGRU']\ntasks: [{task: adding, seq_len: 5}]\n"
            "matrix: {impl: [fused, cell]}\n",
            "matrix.impl: not available for plugin",
        ),
        (BASE + "matrix: {batch_size: [null]}\n", "matrix: batch_size"),
    ],
)
def test_sweeps_that_cannot_work_are_one_line(write_suite, text, expected):
    assert expected in _error(write_suite, text)


def test_committed_ci_baseline_ids_match_the_ci_suite():
    _, cases, _ = load_suite(REPO / "suites" / "ci.yaml")
    baseline = json.loads((REPO / "results" / "baseline" / "ci.json").read_text())
    assert [c["id"] for c in baseline["cases"]] == [c.id for c in cases]
