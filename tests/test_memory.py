"""Memory that measures the model: saved-for-backward counting, the formula per kernel path, inference peaks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from pydantic import ValidationError

from rnnbench.export.csv_rows import case_row
from rnnbench.measure.allocated import peak_allocated_bytes
from rnnbench.measure.backend import detect_backend
from rnnbench.measure.memory import inference_memory, training_memory
from rnnbench.measure.storages import SavedForBackward
from rnnbench.models.memory_formula import formula_path, optimizer_state_bytes, training_memory_formula
from rnnbench.models.registry import MODELS
from rnnbench.results.schema import CaseRecord
from rnnbench.run.train import make_optimizer
from rnnbench.tasks.registry import TASKS

TASK_LOSS = {"adding": "mse", "copy": "cross_entropy"}
MIB = 2**20


def _case(arch: str, impl: str, batch_size: int, *, task: str = "adding", seq_len: int = 5, layers: int = 1):
    problem = TASKS[task](seq_len=seq_len)
    torch.manual_seed(0)
    model = MODELS[arch](
        input_size=problem.input_size,
        output_size=problem.output_size,
        output_kind=problem.output_kind,
        hidden_size=8,
        num_layers=layers,
        impl=impl,
    )
    batch = problem.sample(batch_size, torch.Generator().manual_seed(1), "cpu")
    return problem, model, batch


def _counted(model, problem, batch, optimizer: str = "adam") -> dict:
    return training_memory(model, lambda p: make_optimizer(optimizer, p, 0.01), batch, problem.loss, 1.0, "cpu")


def _formula(arch, impl, model, problem, batch, *, layers: int = 1, task: str = "adding", optimizer: str = "adam"):
    path = formula_path(impl, detect_backend(model, batch.inputs))
    return training_memory_formula(
        arch,
        path,
        seq_len=batch.inputs.shape[1],
        batch_size=batch.inputs.shape[0],
        input_size=problem.input_size,
        hidden_size=8,
        num_layers=layers,
        output_size=problem.output_size,
        output_kind=problem.output_kind,
        loss=TASK_LOSS[task],
        optimizer=optimizer,
    )


def _without_peak(counted: dict) -> dict:
    return {key: value for key, value in counted.items() if key != "peak_allocated_bytes"}


# ---- the formula follows the count, byte for byte -----------------------------------------


@pytest.mark.parametrize("arch", ["lstm", "gru", "bilstm", "rnn"])
@pytest.mark.parametrize("batch_size", [2, 5])
def test_formula_matches_the_count_on_the_fused_path(arch, batch_size):
    problem, model, batch = _case(arch, "fused", batch_size)
    counted = _counted(model, problem, batch)
    assert _without_peak(counted) == _formula(arch, "fused", model, problem, batch)


@pytest.mark.parametrize("arch", ["lstm", "bigru"])
def test_formula_matches_the_count_for_stacked_layers_and_a_per_step_head(arch):
    problem, model, batch = _case(arch, "fused", 3, task="copy", seq_len=2, layers=2)
    counted = _counted(model, problem, batch)
    assert _without_peak(counted) == _formula(arch, "fused", model, problem, batch, layers=2, task="copy")


@pytest.mark.parametrize("impl", ["cell", "scripted"])
@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "bilstm"])
def test_formula_matches_the_count_on_the_cell_and_scripted_paths(arch, impl):
    problem, model, batch = _case(arch, impl, 3, layers=2)
    counted = _counted(model, problem, batch)
    assert _without_peak(counted) == _formula(arch, impl, model, problem, batch, layers=2)


@pytest.mark.parametrize("variant", ["vanilla", "nig", "nfg", "nog", "niaf", "noaf", "np", "cifg", "fgr"])
@pytest.mark.parametrize("arch", ["lstm", "bilstm"])
def test_formula_matches_the_count_of_a_scripted_variant(arch, variant):
    problem = TASKS["adding"](seq_len=4)
    torch.manual_seed(0)
    model = MODELS[arch](
        input_size=2, output_size=1, output_kind="last", hidden_size=6, num_layers=2, impl="scripted", variant=variant
    )
    batch = problem.sample(3, torch.Generator().manual_seed(1), "cpu")
    sizes = dict(seq_len=4, batch_size=3, input_size=2, hidden_size=6, num_layers=2, output_size=1, output_kind="last")
    formula = training_memory_formula(arch, "scripted", variant=variant, **sizes)
    assert _without_peak(_counted(model, problem, batch)) == formula
    if variant in ("nfg", "fgr"):  # its parameters differ from the plain LSTM's: the variant is not an LSTM here
        assert formula["parameters_bytes"] != training_memory_formula(arch, "scripted", **sizes)["parameters_bytes"]


def test_variant_formula_covers_the_scripted_path_and_np_on_onednn_only():
    sizes = dict(seq_len=5, batch_size=3, input_size=2, hidden_size=8, output_size=1, output_kind="last")
    with pytest.raises(ValueError, match="'fgr' on the cell path"):
        training_memory_formula("lstm", "cell", variant="fgr", **sizes)
    assert training_memory_formula("lstm", "onednn", variant="np", **sizes) == training_memory_formula(
        "lstm", "onednn", **sizes
    )


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adamw"])
def test_formula_matches_the_count_for_each_optimizer(optimizer):
    problem, model, batch = _case("gru", "fused", 2)
    counted = _counted(model, problem, batch, optimizer)
    assert _without_peak(counted) == _formula("gru", "fused", model, problem, batch, optimizer=optimizer)


def test_formula_scales_with_the_element_size_of_a_float64_model():
    problem, model, batch = _case("lstm", "cell", 3)
    model = model.double()
    batch = SimpleNamespace(inputs=batch.inputs.double(), targets=batch.targets.double())
    counted = _counted(model, problem, batch)
    sizes = dict(seq_len=5, batch_size=3, input_size=2, hidden_size=8, output_size=1, output_kind="last")
    single = training_memory_formula("lstm", "cell", **sizes)
    double = training_memory_formula("lstm", "cell", dtype_bytes=8, **sizes)
    assert _without_peak(counted) == double
    assert double["saved_for_backward_bytes"] == 2 * single["saved_for_backward_bytes"]


def test_formula_refuses_what_it_does_not_cover():
    sizes = dict(seq_len=5, batch_size=3, input_size=2, hidden_size=8, output_size=1, output_kind="last")
    with pytest.raises(ValueError, match="peephole"):
        training_memory_formula("peephole", "cell", **sizes)
    with pytest.raises(ValueError, match="float32"):
        training_memory_formula("lstm", "onednn", dtype_bytes=2, **sizes)
    with pytest.raises(ValueError, match="onednn"):
        training_memory_formula("lstm", "native", **sizes)
    assert formula_path("fused", "cudnn") is None and formula_path("cell", "python-loop") == "cell"


# ---- what is counted -----------------------------------------------------------------------


def test_tensors_sharing_a_storage_count_once_and_a_dropped_branch_not_at_all():
    x = torch.randn(4, 8, requires_grad=True)
    with SavedForBackward() as saved:
        y = x.exp()  # saves y
        z = y[:, :4] * y[:, 4:]  # saves two views of y's storage
    assert saved.held_bytes() == y.untyped_storage().nbytes() == 4 * 8 * 4
    with SavedForBackward() as dropped:
        branch = x.exp()
    del branch  # its graph, and what it saved, go with it
    assert dropped.held_bytes() == 0
    z.sum().backward()


def test_parameters_are_left_to_their_own_part():
    weight = torch.nn.Parameter(torch.randn(8, 8))
    x = torch.randn(3, 8)
    with SavedForBackward(exclude=frozenset({weight.untyped_storage().data_ptr()})) as saved:
        out = x @ weight  # saves x and the weight
    assert saved.held_bytes() == x.untyped_storage().nbytes()
    out.sum().backward()


def test_optimizer_state_is_what_the_optimizer_keeps():
    problem, model, batch = _case("lstm", "fused", 2)
    adam, sgd = _counted(model, problem, batch, "adam"), _counted(model, problem, batch, "sgd")
    tensors = len(list(model.parameters()))
    assert sgd["optimizer_state_bytes"] == 0
    assert adam["optimizer_state_bytes"] == 2 * adam["parameters_bytes"] + 4 * tensors
    assert adam["optimizer_state_bytes"] == optimizer_state_bytes("adam", adam["parameters_bytes"] // 4, tensors)
    assert adam["gradients_bytes"] == adam["parameters_bytes"] == 4 * model.n_params


def test_training_memory_leaves_the_model_as_it_was():
    problem, model, batch = _case("gru", "fused", 2)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    _counted(model, problem, batch)
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_training_memory_is_reproducible_and_grows_with_the_sequence():
    problem, model, batch = _case("lstm", "fused", 2)
    first, second = _counted(model, problem, batch), _counted(model, problem, batch)
    assert first == second
    longer_problem, _, longer_batch = _case("lstm", "fused", 2, seq_len=20)
    longer = _counted(model, longer_problem, longer_batch)
    assert longer["saved_for_backward_bytes"] > first["saved_for_backward_bytes"]
    assert longer["parameters_bytes"] == first["parameters_bytes"]


# ---- the allocator's peak and inference ----------------------------------------------------


def test_cpu_peak_follows_allocations_and_frees():
    def call():
        block = torch.ones(MIB // 4)  # 1 MiB
        del block
        return torch.ones(MIB // 8)  # 0.5 MiB, while the first is already freed

    peak = peak_allocated_bytes(call, "cpu")
    assert peak is not None and MIB <= peak < MIB + MIB // 4


def test_inference_memory_grows_with_the_batch_and_leaves_the_mode():
    problem, model, batch = _case("lstm", "fused", 16, seq_len=10)
    model.train()
    small = inference_memory(model, batch.inputs[:1], "cpu")
    large = inference_memory(model, batch.inputs, "cpu")
    assert model.training
    assert small["parameters_bytes"] == large["parameters_bytes"] == 4 * model.n_params
    assert large["peak_allocated_bytes"] > small["peak_allocated_bytes"] > 0
    outputs = 16 * 10 * 8 * 4  # at least the layer's outputs were live at once
    assert large["peak_allocated_bytes"] >= outputs
    assert large["total_bytes"] == large["parameters_bytes"] + large["peak_allocated_bytes"]
    assert inference_memory(model, batch.inputs, "cpu") == large


# ---- records -------------------------------------------------------------------------------


def _record(memory: dict) -> dict:
    return {"id": "c", "arch": "lstm", "task": "adding", "seq_len": 5, "seed": 0, "status": "failed", "memory": memory}


def test_the_record_keeps_old_and_new_memory_blocks_and_refuses_text():
    new = {"training": {"total_bytes": 10, "saved_for_backward_bytes": 4}, "inference": {"b1": {"total_bytes": 3}}}
    assert CaseRecord.model_validate(_record(new)).memory.training.total_bytes == 10
    old = {"peak_bytes": 417_144_832, "phases": {"train_step": 1, "training": 2}}
    assert CaseRecord.model_validate(_record(old)).memory.peak_bytes == 417_144_832
    with pytest.raises(ValidationError):
        CaseRecord.model_validate(_record({"training": {"total_bytes": "10"}}))
    row = case_row(_record(new), [])
    assert row["training_memory_bytes"] == 10 and row["saved_for_backward_bytes"] == 4


# ---- CUDA ----------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_peak_holds_at_least_the_weights_gradients_and_state():
    device = torch.device("cuda")
    problem, model, batch = _case("lstm", "fused", 4)
    model = model.to(device)
    batch = SimpleNamespace(inputs=batch.inputs.to(device), targets=batch.targets.to(device))
    counted = training_memory(model, lambda p: make_optimizer("adam", p, 0.01), batch, problem.loss, 1.0, device)
    kept = counted["parameters_bytes"] + counted["gradients_bytes"] + counted["optimizer_state_bytes"]
    assert counted["saved_for_backward_bytes"] > 0 and counted["peak_allocated_bytes"] >= kept
    inference = inference_memory(model, batch.inputs, device)
    assert inference["peak_allocated_bytes"] > 0
