"""Suite loading, validation errors with field paths, and case expansion."""

from __future__ import annotations

import pytest

from rnnbench.suite.expand import load_suite
from rnnbench.suite.files import SuiteError, builtin_suite_dir


def _error(write_suite, text: str) -> str:
    path = write_suite(text)
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    assert str(path) in message, "errors name the file"
    return message


BASE = """
name: t
models: [lstm]
tasks: [{task: adding, seq_len: 5}]
"""


def test_minimal_suite_expands_to_one_case(write_suite):
    suite, cases, _ = load_suite(write_suite(BASE))
    assert suite.name == "t"
    assert [c.id for c in cases] == ["adding/T5/lstm/h64/s0"]


def test_case_ids_and_order_from_seeds_models_and_matrix(write_suite):
    _, cases, _ = load_suite(
        write_suite(
            """
            name: t
            seeds: [0, 1]
            models: [lstm, {arch: gru, hidden_size: 32}]
            tasks: [{task: adding, seq_len: 5}, {task: copy, seq_len: 3}]
            matrix: {seq_len: [10, 20]}
            """
        )
    )
    ids = [c.id for c in cases]
    assert len(ids) == 2 * 2 * 2 * 2
    assert ids[:4] == [
        "adding/T10/lstm/h64/s0",
        "adding/T10/lstm/h64/s1",
        "adding/T10/gru/h32/s0",
        "adding/T10/gru/h32/s1",
    ]
    assert "copy/T20/gru/h32/s1" in ids
    assert len(set(ids)) == len(ids)


def test_defaults_merge_into_entries_and_entries_win(write_suite):
    _, cases, _ = load_suite(
        write_suite(
            """
            name: t
            defaults: {hidden_size: 16, batch_size: 8, optimizer: {lr: 0.01}}
            models: [lstm, {arch: gru, batch_size: 2, impl: cell}]
            tasks: [{task: adding, seq_len: 5, train_size: 128}]
            """
        )
    )
    lstm, gru = cases
    assert lstm.settings.hidden_size == 16 and lstm.settings.batch_size == 8
    assert gru.settings.batch_size == 2 and gru.settings.impl == "cell"
    assert gru.settings.optimizer.lr == 0.01
    assert gru.label == "gru-cell" and gru.id == "adding/T5/gru-cell/h16/n128/s0"


def test_matrix_over_train_size_and_layers_tags_ids(write_suite):
    _, cases, _ = load_suite(write_suite(BASE + "matrix: {train_size: [64, 256], num_layers: [1, 2]}\n"))
    assert [c.id for c in cases] == [
        "adding/T5/lstm/h64/n64/s0",
        "adding/T5/lstm/h64/L2/n64/s0",
        "adding/T5/lstm/h64/n256/s0",
        "adding/T5/lstm/h64/L2/n256/s0",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (BASE + "colour: blue\n", "colour: Extra inputs are not permitted"),
        (BASE + "defaults: {hidden_size: 0}\n", "defaults.hidden_size"),
        (BASE + "defaults: {train: {max_steps: -1}}\n", "defaults.train.max_steps"),
        (BASE + "defaults: {timing: {wramup: 3}}\n", "defaults.timing.wramup"),
        (BASE + "seeds: []\n", "seeds"),
        (BASE + "device: tpu\n", "device"),
        (BASE + "dtype: float64\n", "dtype"),
        ("name: t\nmodels: [transformer]\ntasks: [{task: adding, seq_len: 5}]\n", "unknown model 'transformer'"),
        ("name: t\nmodels: [lstm]\ntasks: [{task: sorting, seq_len: 5}]\n", "unknown task 'sorting'"),
        ("name: t\nmodels: []\ntasks: [{task: adding, seq_len: 5}]\n", "models"),
        ("name: t\nmodels: [lstm]\ntasks: [{task: adding, seq_len: 5, colour: 3}]\n", "adding option colour"),
        ("name: t\nmodels: [lstm]\ntasks: [{task: adding, seq_len: 'long'}]\n", "tasks[0].seq_len"),
        (
            "name: t\nmodels: [{arch: peephole, impl: fused}]\ntasks: [{task: adding, seq_len: 5}]\n",
            "no 'fused' implementation",
        ),
        (BASE + "defaults: {hidden_size: [8, 8], num_layers: 1}\n", "num_layers"),
        ("name: t\nmodels: [lstm, lstm]\ntasks: [{task: adding, seq_len: 5}]\n", "duplicate case id"),
        (BASE + "matrix: {seq_len: []}\n", "matrix"),
        (BASE + "matrix: {colour: [1]}\n", "matrix.colour"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("name: t\nmodels: [lstm\n", "invalid YAML at line"),
        ("!!python/object:os.system {}\n", "invalid YAML"),
    ],
)
def test_bad_suites_give_one_line_naming_file_and_field(write_suite, text, expected):
    assert expected in _error(write_suite, text)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SuiteError, match="no such file"):
        load_suite(tmp_path / "absent.yaml")
    with pytest.raises(SuiteError, match="is a directory"):
        load_suite(tmp_path)


def test_case_limit_is_clear_and_overridable(write_suite):
    path = write_suite(BASE + "seeds: [0, 1, 2, 3]\nmatrix: {seq_len: [2, 3, 4, 5, 6]}\n")
    with pytest.raises(SuiteError, match="20 cases, more than the limit of 10"):
        load_suite(path, max_cases=10)
    assert len(load_suite(path, max_cases=20)[1]) == 20


def test_every_builtin_suite_validates():
    paths = sorted(builtin_suite_dir().glob("*.yaml"))
    assert paths, "built-in suites are found"
    for path in paths:
        suite, cases, _ = load_suite(path)
        assert cases, path
    assert load_suite("quick")[2].name == "quick.yaml"
