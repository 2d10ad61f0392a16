"""Parameter matching: the formula against built models, closest sizes, the 2 % promise, suite and runner wiring."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnbench.catalog import CELL_IMPLS, MODEL_SPECS
from rnnbench.models.matching import closest_hidden_size, match_case, match_params
from rnnbench.models.params import core_params, model_core_params
from rnnbench.models.registry import MODELS
from rnnbench.suite.expand import load_suite
from rnnbench.suite.files import SuiteError

ARCHS = sorted(MODEL_SPECS)
PAIRS = list(itertools.product(ARCHS, ARCHS))


def _build(arch: str, input_size: int, hidden_size, num_layers: int):
    impl = CELL_IMPLS[MODEL_SPECS[arch].cell][0]
    return MODELS[arch](
        input_size=input_size,
        output_size=3,
        output_kind="last",
        hidden_size=hidden_size,
        num_layers=num_layers,
        impl=impl,
    )


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize(("input_size", "hidden_size", "num_layers"), [(2, 5, 1), (10, 3, 2), (1, [4, 6], 2)])
def test_formula_counts_the_built_core(arch, input_size, hidden_size, num_layers):
    model = _build(arch, input_size, hidden_size, num_layers)
    assert core_params(arch, input_size, hidden_size, num_layers) == model.n_core_params


@pytest.mark.parametrize(("reference", "target"), PAIRS)
@pytest.mark.parametrize(("input_size", "num_layers"), [(2, 1), (10, 2)])
def test_matched_within_two_percent_at_realistic_sizes(reference, target, input_size, num_layers):
    # The resolution is about 1/h of the matched size, so 2 % needs h in the tens: true from 256 up
    # even for a bidirectional LSTM matched to a tanh RNN (h ≈ 89 at 256).
    for hidden_size in (256, 512):
        m = match_params(target, reference, input_size, hidden_size, num_layers)
        assert abs(m.rel_error) <= 0.02, m
        assert m.n_params == core_params(target, input_size, m.hidden_size, num_layers)
        assert m.target_params == core_params(reference, input_size, hidden_size, num_layers)


@pytest.mark.parametrize(("reference", "target"), PAIRS)
def test_matched_size_is_the_closest_at_any_size(reference, target):
    for hidden_size, input_size in ((3, 2), (8, 10), (64, 1), (100, 7)):
        m = match_params(target, reference, input_size, hidden_size, 1)
        best = abs(m.n_params - m.target_params)
        for h in (m.hidden_size - 1, m.hidden_size + 1):
            if h >= 1:
                assert abs(core_params(target, input_size, h, 1) - m.target_params) >= best


@pytest.mark.parametrize("arch", ARCHS)
def test_reference_itself_keeps_its_size(arch):
    m = match_params(arch, arch, 4, 37, 2)
    assert (m.hidden_size, m.rel_error) == (37, 0.0)


def test_integer_target_and_small_targets():
    m = match_params("rnn", 5000, 2, 8, 1)
    assert m.reference == 5000 and m.target_params == 5000
    assert core_params("rnn", 2, m.hidden_size - 1, 1) < 5000 < core_params("rnn", 2, m.hidden_size + 1, 1)
    assert closest_hidden_size("lstm", 2, 1, 1) == 1  # below the smallest model: the smallest model


def test_tie_takes_the_smaller_size():
    below, above = core_params("rnn", 1, 4, 1), core_params("rnn", 1, 5, 1)  # 28 and 40
    assert closest_hidden_size("rnn", 1, 1, (below + above) // 2) == 4


def test_bad_reference_and_target_raise():
    with pytest.raises(ValueError, match="match_params: unknown model 'lsmt'"):
        match_params("gru", "lsmt", 2, 8, 1)
    with pytest.raises(ValueError, match="positive"):
        closest_hidden_size("gru", 2, 1, 0)


@pytest.mark.parametrize(
    ("where", "text"), [("defaults", "defaults.match_params"), ("model", "models[1].match_params")]
)
def test_unknown_reference_is_a_one_line_suite_error(write_suite, where, text):
    defaults = "{hidden_size: 8, match_params: lsmt}" if where == "defaults" else "{hidden_size: 8}"
    models = "[lstm, gru]" if where == "defaults" else "[lstm, {arch: gru, match_params: lsmt}]"
    path = write_suite(
        f"name: t\ndevice: cpu\ndefaults: {defaults}\nmodels: {models}\ntasks: [{{task: adding, seq_len: 5}}]\n"
    )
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    message = str(err.value)
    assert text in message and "lsmt" in message and "\n" not in message


MATCHED_SUITE = """
name: matched
seeds: [0]
device: cpu
defaults:
  hidden_size: 8
  batch_size: 4
  match_params: lstm
  train: {max_steps: 2, max_seconds: 5, eval_every: 2, eval_size: 8}
  timing: {warmup: 0, min_repeats: 2, max_repeats: 2, max_seconds: 0.1}
  inference: {batch_sizes: [1]}
models: [lstm, rnn, {arch: gru, match_params: 300}]
tasks:
  - {task: adding, seq_len: 4}
"""


def test_runner_builds_and_records_the_matched_size(write_suite):
    from rnnbench.run.build import build_case_model
    from rnnbench.run.runner import run_case
    from rnnbench.tasks.registry import TASKS

    _, cases, _ = load_suite(write_suite(MATCHED_SUITE))
    assert [c.id for c in cases] == ["adding/T4/lstm/p~lstm/s0", "adding/T4/rnn/p~lstm/s0", "adding/T4/gru/p~300/s0"]
    for case in cases:
        task = TASKS[case.task](seq_len=case.seq_len)
        matched = match_case(case, task.input_size)
        model = build_case_model(case, task, torch.device("cpu"))
        assert model.hidden_sizes == [matched.hidden_size]
        assert model.n_core_params == matched.n_params
    rnn = match_case(cases[1], 2)
    assert rnn.hidden_size > 8 and rnn.target_params == core_params("lstm", 2, 8, 1)
    record = run_case(cases[1])
    assert record["status"] == "ok", record.get("error")
    assert record["hidden_size"] == rnn.hidden_size
    assert record["matched"] == {**rnn.as_record(), "counted": "core"}
    assert record["n_core_params"] == rnn.n_params


VARIANT_SUITE = """
name: matched-variants
seeds: [0]
device: cpu
defaults: {hidden_size: 16, batch_size: 4, match_params: lstm, impl: scripted}
models: [{arch: lstm, variant: fgr}, {arch: lstm, variant: nfg}, {arch: lstm, variant: vanilla}]
tasks:
  - {task: adding, seq_len: 4}
"""


def test_a_variant_is_matched_by_its_own_formula(write_suite):
    from rnnbench.run.build import build_case_model
    from rnnbench.tasks.registry import TASKS

    _, cases, _ = load_suite(write_suite(VARIANT_SUITE))
    sizes = {}
    for case in cases:
        task = TASKS[case.task](seq_len=case.seq_len)
        matched = match_case(case, task.input_size)
        model = build_case_model(case, task, torch.device("cpu"))
        assert model.hidden_sizes == [matched.hidden_size]
        assert model.n_core_params == matched.n_params  # the built variant holds what its formula counts
        assert matched.target_params == core_params("lstm", 2, 16, 1)
        sizes[case.settings.variant] = matched.hidden_size
    # FGR's 9h² gate recurrence buys a smaller layer, NFG's missing block a larger one; vanilla's 3h peepholes
    # cost less than one unit of h, so it keeps the LSTM's size
    assert sizes["fgr"] < 16 < sizes["nfg"] and sizes["vanilla"] == 16


@pytest.mark.parametrize("variant", ["fgr", "nfg", "cifg", "np"])
def test_variant_match_is_the_closest_size(variant):
    for hidden_size, input_size in ((8, 2), (64, 1), (100, 7)):
        m = match_params("lstm", "gru", input_size, hidden_size, 1, variant=variant)
        best = abs(m.n_params - m.target_params)
        assert m.n_params == model_core_params("lstm", input_size, m.hidden_size, 1, variant)
        for h in (m.hidden_size - 1, m.hidden_size + 1):
            assert abs(model_core_params("lstm", input_size, h, 1, variant) - m.target_params) >= best
