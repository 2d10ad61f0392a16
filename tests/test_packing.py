"""Packed sequences: left padding no longer runs through the recurrence, in every implementation."""

from __future__ import annotations

import re

import pytest
import torch
import yaml

from rnnbench.catalog import CELL_IMPLS, TASK_SPECS
from rnnbench.models.cells import _FusedOutputs, build_core
from rnnbench.models.packing import lengths_from_padding
from rnnbench.models.registry import MODELS
from rnnbench.run.build import build_case_model
from rnnbench.suite.expand import expand, parse_suite
from rnnbench.suite.files import SuiteError
from rnnbench.suite.schema import CaseSettings
from rnnbench.tasks.registry import TASKS

STEPS, INPUT, HIDDEN = 6, 3, 5
LENGTHS = torch.tensor([6, 1, 3, 4])


def left_padded(seed: int = 0) -> torch.Tensor:
    """(4, 6, 3) random steps, zero on the left of each sequence's LENGTHS[b] real steps."""
    x = torch.randn(len(LENGTHS), STEPS, INPUT, generator=torch.Generator().manual_seed(seed))
    padding = torch.arange(STEPS).unsqueeze(0) < (STEPS - LENGTHS).unsqueeze(1)
    return x.masked_fill(padding.unsqueeze(-1), 0.0)


def cores(cell: str, bidirectional: bool, num_layers: int = 1):
    """The cell's implementations, all with the weights of the first."""
    torch.manual_seed(0)
    built = [build_core(cell, impl, INPUT, HIDDEN, num_layers, bidirectional) for impl in CELL_IMPLS[cell]]
    for core in built[1:]:
        core.load_state_dict(built[0].state_dict())
    return dict(zip(CELL_IMPLS[cell], built))


CASES = [(cell, bi, layers) for cell in ("rnn", "lstm", "gru", "peephole") for bi in (False, True) for layers in (1, 2)]


@pytest.fixture(params=["realign", "pack"], autouse=True)
def fused_route(request, monkeypatch):
    """Every test runs with both routes of the fused cores (`pack` is the CUDA one; here forced on the CPU)."""
    monkeypatch.setattr(_FusedOutputs, "packing_routes", {"cpu": request.param})
    return request.param


@pytest.mark.parametrize("cell,bidirectional,num_layers", CASES)
def test_packed_state_equals_the_unpadded_sequences_state(cell, bidirectional, num_layers):
    x = left_padded()
    for impl, core in cores(cell, bidirectional, num_layers).items():
        outputs, final = core(x, LENGTHS)
        for b, length in enumerate(LENGTHS.tolist()):
            alone_outputs, alone_final = core(x[b : b + 1, STEPS - length :])  # the unpadded sequence, no packing
            assert torch.allclose(final[b], alone_final[0], atol=1e-5), (impl, b)
            assert torch.allclose(outputs[b, STEPS - length :], alone_outputs[0], atol=1e-5), (impl, b)
            assert torch.all(outputs[b, : STEPS - length] == 0), (impl, b)  # padded positions are 0


@pytest.mark.parametrize("cell,bidirectional,num_layers", CASES)
def test_final_only_gives_the_same_final_state(cell, bidirectional, num_layers):
    x = left_padded(3)
    for impl, core in cores(cell, bidirectional, num_layers).items():
        _, final = core(x, LENGTHS)
        assert torch.allclose(core(x, LENGTHS, final_only=True)[1], final, atol=1e-6), impl


@pytest.mark.parametrize("cell,bidirectional,num_layers", CASES)
def test_packed_fused_cell_and_scripted_agree_outputs_and_gradients(cell, bidirectional, num_layers):
    x = left_padded(1)
    results = {}
    for impl, core in cores(cell, bidirectional, num_layers).items():
        inputs = x.clone().requires_grad_(True)
        outputs, final = core(inputs, LENGTHS)
        (outputs.square().sum() + final.sum()).backward()
        grads = {name: p.grad for name, p in core.named_parameters()}
        results[impl] = (outputs, final, inputs.grad, grads)
    first, *others = results.values()
    for other in others:
        for a, b in zip(first[:3], other[:3]):
            assert torch.allclose(a, b, atol=1e-5)
        for name, grad in first[3].items():
            assert torch.allclose(grad, other[3][name], atol=1e-4), name


def test_padding_changes_the_unpacked_state():
    """The bug packing fixes: unpacked, the left padding moves the state before the first real symbol."""
    core = cores("lstm", False)["fused"]
    x = left_padded()
    _, padded_final = core(x)
    _, packed_final = core(x, LENGTHS)
    short = LENGTHS < STEPS
    assert not torch.allclose(padded_final[short], packed_final[short], atol=1e-3)
    assert torch.allclose(padded_final[~short], packed_final[~short], atol=1e-6)  # no padding: no difference


GENERATED = [name for name in sorted(TASKS) if not TASK_SPECS[name].real]
VARIANTS = [(name, {}) for name in GENERATED] + [("parity", {"variable_length": True})]


@pytest.mark.parametrize("name,options", VARIANTS)
def test_left_padded_tasks_are_exactly_the_variable_length_ones_and_lengths_read_off_them(name, options):
    """A packed model reads lengths from the leading all-zero steps: each left-padded task must allow it."""
    task = TASKS[name](seq_len=max(20, TASK_SPECS[name].min_seq_len), **options)
    batch = task.sample(500, torch.Generator().manual_seed(0))
    varies = batch.lengths is not None and task.padding_side == "left"
    assert task.left_padded == varies
    if varies:
        assert torch.equal(lengths_from_padding(batch.inputs), batch.lengths)
    assert {"adding1997", "temporal_order", "parity"} <= {n for n, _ in VARIANTS}


def test_packed_model_reads_lengths_itself_and_matches_explicit_lengths():
    task = TASKS["temporal_order"](seq_len=30)
    batch = task.sample(16, torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    make = MODELS["bilstm"]
    model = make(
        input_size=task.input_size, output_size=task.output_size, output_kind="last", hidden_size=8, packed=True
    )
    packed = model(batch.inputs)
    assert torch.allclose(packed, model(batch.inputs, batch.lengths))
    model.packed = False  # unpacked, the padding steps move the state (and lengths are ignored)
    assert not torch.allclose(model(batch.inputs), packed, atol=1e-4)


@pytest.mark.parametrize(
    "yaml_text,message",
    [
        ("defaults: {packed: 3}\n", "defaults.packed: Input should be a valid boolean"),
        ("defaults: {packed: 'yes'}\n", "defaults.packed: Input should be a valid boolean"),
        ("models: [{arch: lstm, packed: 1}]\n", "models[0].packed: Input should be a valid boolean"),
    ],
)
def test_packed_must_be_a_boolean(yaml_text, message):
    data = yaml.safe_load("name: t\ntasks: [{task: temporal_order, seq_len: 10}]\n" + yaml_text)
    data.setdefault("models", ["lstm"])
    with pytest.raises(SuiteError, match=re.escape(message)):
        parse_suite(data, "t.yaml")


def test_packed_by_default_only_on_left_padded_tasks_and_padded_on_request():
    data = {
        "name": "t",
        "models": ["lstm", {"arch": "gru", "packed": False}],
        "tasks": [{"task": "temporal_order", "seq_len": 10}, {"task": "adding", "seq_len": 5}],
    }
    cases = expand(parse_suite(data, "t.yaml"))
    built = {case.id: build_case_model(case, TASKS[case.task](case.seq_len), torch.device("cpu")) for case in cases}
    assert CaseSettings().packed is True
    assert {case_id for case_id, model in built.items() if model.packed} == {"temporal_order/T10/lstm/h64/s0"}
    assert {c.label for c in cases} == {"lstm", "gru-padded"}  # the non-default value shows in the label


def test_per_layer_sizes_fused_stack_packs_like_the_scripted_core():
    torch.manual_seed(0)
    fused = build_core("gru", "fused", INPUT, [5, 4], 2, True)
    scripted = build_core("gru", "scripted", INPUT, [5, 4], 2, True)
    state = {}
    for name, param in fused.state_dict().items():  # layers.k.weight_ih_l0 -> weight_ih_l{k}
        _, layer, key = name.split(".")
        state[key.replace("_l0", f"_l{layer}")] = param
    scripted.load_state_dict(state)
    x = left_padded(2)
    for a, b in zip(fused(x, LENGTHS), scripted(x, LENGTHS)):
        assert torch.allclose(a, b, atol=1e-5)
