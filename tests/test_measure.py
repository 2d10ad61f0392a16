"""Measurement helpers on tiny CPU models: FLOPs, backend detection, threads, dtype, train/inference timers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from rnnbench.measure.backend import (
    autocast_context,
    backend_from_op_names,
    detect_backend,
    dtype_supported,
    env_flags,
    set_threads,
)
from rnnbench.measure.flops import (
    achieved_gflops,
    forward_flops,
    layer_step_flops,
    train_flops,
    variant_layer_step_flops,
)
from rnnbench.measure.phases import reference_matmul_gflops, time_inference, time_train_step

TINY_TIMING = SimpleNamespace(warmup=1, min_repeats=3, max_repeats=5, max_seconds=0.2, target_rel_ci=0.02)


class Head(nn.Module):
    """A fused recurrent core with a linear read-out of the last step, like the real models."""

    def __init__(self, core: nn.Module, features: int) -> None:
        super().__init__()
        self.core, self.out = core, nn.Linear(features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.core(x)[0][:, -1])


class CellLoop(nn.Module):
    """The time loop in Python over nn.LSTMCell: the `cell` implementation."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(input_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = None
        for step in x.unbind(1):
            state = self.cell(step, state)
        return state[0]


# ---- FLOPs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"), [("lstm", 8 * 4 * 7), ("gru", 6 * 4 * 7), ("rnn", 2 * 4 * 7), ("peephole", 8 * 4 * 7)]
)
def test_layer_step_flops_per_cell(cell, expected):
    assert layer_step_flops(cell, input_size=3, hidden_size=4) == expected


def test_forward_flops_stacks_bidirectional_layers():
    # layer 0: 2 directions x 8*4*(3+4); layer 1 reads 4*2 = 8 features: 2 x 8*4*(8+4); times T=5, B=2
    assert forward_flops("lstm", 3, [4, 4], True, seq_len=5, batch_size=2) == (2 * 224 + 2 * 384) * 10


@pytest.mark.parametrize(("cell", "module"), [("lstm", nn.LSTM), ("gru", nn.GRU), ("rnn", nn.RNN)])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_forward_flops_match_the_weights_of_torch_modules(cell, module, bidirectional):
    # each weight matrix entry is one multiply-add (2 FLOPs) per time step per sequence
    core = module(3, 4, num_layers=2, bidirectional=bidirectional)
    weight_entries = sum(p.numel() for name, p in core.named_parameters() if name.startswith("weight"))
    assert forward_flops(cell, 3, [4, 4], bidirectional, seq_len=5, batch_size=2) == 2 * weight_entries * 5 * 2


@pytest.mark.parametrize("variant", ["vanilla", "nig", "nfg", "nog", "niaf", "noaf", "np", "cifg", "fgr", "peephole"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_variant_flops_match_the_weight_matrices_of_the_built_variant(variant, bidirectional):
    from rnnbench.models.variants import build_variant_core

    # a weight matrix entry (weight_ih, weight_hh, FGR's weight_fgr) is one multiply-add per step and sequence; the
    # peepholes (1-D, elementwise) are not counted, as for every cell
    core = build_variant_core(variant, "cell", 3, 4, 2, bidirectional)
    weight_entries = sum(p.numel() for p in core.parameters() if p.dim() == 2)
    flops = forward_flops("lstm", 3, [4, 4], bidirectional, seq_len=5, batch_size=2, variant=variant)
    assert flops == 2 * weight_entries * 5 * 2


def test_variant_flops_by_hand():
    # h = 4, i = 3: a block is 4 x 7 = 28 entries; NFG has 3 blocks, FGR 4 blocks and a 12 x 12 recurrence
    assert variant_layer_step_flops("nfg", 3, 4) == 2 * 3 * 28
    assert variant_layer_step_flops("fgr", 3, 4) == 2 * (4 * 28 + 144)
    assert (
        variant_layer_step_flops("np", 3, 4)
        == variant_layer_step_flops("vanilla", 3, 4)
        == layer_step_flops("lstm", 3, 4)
    )


def test_train_flops_and_achieved_gflops():
    assert train_flops(1000) == 3000
    assert achieved_gflops(2e9, 1000.0) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        forward_flops("transformer", 3, [4], False, 5, 2)


# ---- backend detection ---------------------------------------------------------------------


def _op_names(model: nn.Module, inputs: torch.Tensor) -> set[str]:
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        model(inputs)
    return {event.name for event in profiler.events()}


@pytest.mark.parametrize("module", [nn.LSTM, nn.GRU, nn.RNN])
def test_detect_backend_of_fused_layers_matches_the_profiler(module):
    model, inputs = module(3, 8, batch_first=True), torch.randn(2, 5, 3)
    names = _op_names(model, inputs)
    fused = {"aten::lstm", "aten::gru", "aten::rnn_tanh"} & names
    assert fused, "a fused nn.LSTM/GRU/RNN must dispatch its sequence op"
    expected = "onednn" if any("mkldnn_rnn" in name for name in names) else "native"
    assert detect_backend(model, inputs) == expected


def test_detect_backend_of_a_python_cell_loop():
    assert detect_backend(CellLoop(3, 8), torch.randn(2, 5, 3)) == "python-loop"


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_detect_backend_sees_through_disabled_onednn():
    model, inputs = nn.LSTM(3, 8, batch_first=True), torch.randn(2, 5, 3)
    with torch.backends.mkldnn.flags(enabled=False):
        assert detect_backend(model, inputs) == "native"


@pytest.mark.parametrize(
    ("names", "backend"),
    [
        ({"aten::lstm", "aten::_cudnn_rnn"}, "cudnn"),
        ({"aten::lstm", "aten::mkldnn_rnn_layer"}, "onednn"),
        ({"aten::gru", "aten::addmm"}, "native"),
        ({"aten::lstm_cell", "aten::addmm"}, "python-loop"),
    ],
)
def test_backend_from_op_names(names, backend):
    assert backend_from_op_names(names) == backend


# ---- threads, flags, dtype (memory: tests/test_memory.py) ----------------------------------


def test_set_threads_restores_even_on_error():
    before = torch.get_num_threads()
    with set_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), set_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with set_threads(None):
        assert torch.get_num_threads() == before


def test_env_flags_report_the_live_settings():
    flags = env_flags()
    assert flags["threads"] == torch.get_num_threads()
    with set_threads(1):
        assert env_flags()["threads"] == 1
    assert flags["mkldnn_enabled"] is torch.backends.mkldnn.enabled
    assert {"cudnn_benchmark", "cudnn_deterministic", "deterministic_algorithms", "tf32_matmul", "tf32_cudnn"} <= set(
        flags
    )


def test_dtype_support_and_autocast_on_cpu():
    assert dtype_supported("cpu", "float32") and dtype_supported("cpu", "bfloat16")
    assert not dtype_supported("cpu", "float16")
    assert not dtype_supported("cpu", "float64")
    layer = nn.Linear(3, 2)
    with autocast_context("cpu", "bfloat16"):
        assert layer(torch.randn(1, 3)).dtype == torch.bfloat16
    with autocast_context("cpu", "float32"):
        assert layer(torch.randn(1, 3)).dtype == torch.float32
    with pytest.raises(ValueError):
        autocast_context("cpu", "float16")


# ---- the timers of a case ------------------------------------------------------------------


def _tiny_case():
    torch.manual_seed(0)
    model = Head(nn.LSTM(3, 8, batch_first=True), 8)
    batch = SimpleNamespace(inputs=torch.randn(4, 5, 3), targets=torch.randn(4, 1))
    return model, batch, lambda outputs, b: nn.functional.mse_loss(outputs, b.targets)


def test_time_train_step_returns_step_and_phase_summaries(monkeypatch):
    model, batch, loss_fn = _tiny_case()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    clips = []
    real_clip = nn.utils.clip_grad_norm_
    monkeypatch.setattr(
        nn.utils, "clip_grad_norm_", lambda params, max_norm: clips.append(max_norm) or real_clip(params, max_norm)
    )
    result = time_train_step(model, optimizer, batch, loss_fn, 1.0, TINY_TIMING, "cpu")
    assert set(result) == {"step_ms", "phases_ms"}
    assert set(result["phases_ms"]) == {"forward", "backward", "optimizer"}
    n = result["step_ms"]["n"]
    assert 3 <= n <= 5
    assert all(summary["n"] == n for summary in result["phases_ms"].values())
    # every warm-up and timed step really ran the optimizer, with clipping
    steps_taken = optimizer.state[next(iter(model.parameters()))]["step"]
    assert int(steps_taken) == TINY_TIMING.warmup + n
    assert clips == [1.0] * (TINY_TIMING.warmup + n)
    phase_sum = sum(sum(p["samples"]) for p in result["phases_ms"].values())
    assert sum(result["step_ms"]["samples"]) == pytest.approx(phase_sum)


def test_time_inference_in_eval_mode_without_grad():
    model, batch, _ = _tiny_case()
    modes = []
    model.register_forward_pre_hook(
        lambda module, args: modes.append((module.training, torch.is_inference_mode_enabled()))
    )
    result = time_inference(model, batch.inputs, TINY_TIMING, "cpu")
    assert set(modes) == {(False, True)}
    assert model.training  # restored
    assert all(p.grad is None for p in model.parameters())
    assert result["seq_per_s"] == pytest.approx(4 / (result["latency_ms"]["median"] * 1e-3))


def test_reference_matmul_gflops_is_consistent():
    result = reference_matmul_gflops("cpu", size=64)
    assert result["size"] == 64 and result["matmul_gflops"] > 0
    assert result["matmul_gflops"] == pytest.approx(2 * 64**3 / (result["matmul_ms"]["median"] * 1e-3) / 1e9)


# ---- CUDA ----------------------------------------------------------------------------------

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@needs_cuda
def test_cuda_backend_and_train_step():
    device = torch.device("cuda")
    model, batch, loss_fn = _tiny_case()
    model = model.to(device)
    batch = SimpleNamespace(inputs=batch.inputs.to(device), targets=batch.targets.to(device))
    assert detect_backend(model, batch.inputs) == "cudnn"
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    result = time_train_step(model, optimizer, batch, loss_fn, 1.0, TINY_TIMING, device)
    assert result["step_ms"]["median"] > 0 and result["phases_ms"]["forward"]["median"] > 0
    assert dtype_supported("cuda", "float16")
    assert reference_matmul_gflops(device, size=256)["matmul_gflops"] > 0
