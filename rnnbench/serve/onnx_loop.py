"""ONNX exports whose time axis the dynamo exporter would freeze, through the TorchScript-based exporter instead.

The dynamo exporter traces, and unrolls at the example's length whatever steps through time without an ONNX
op of its own: a model's Python or TorchScript loop (impl cell or scripted: |Δ| 1e-2 to 5e-2 at the second
length on the peephole LSTMs), and nn.RNN, which it decomposes into per-step ops (|Δ| 4e-2 to 1e-1 on the fused
rnn and birnn, exported at 3 steps). The TorchScript-based exporter (`torch.onnx.export(dynamo=False)`) keeps both
dynamic: a scripted module's `prim::Loop` becomes an ONNX `Loop` whose trip count is the input's length (so such
a model is first written as `loop_model.LoopModel` and scripted), and nn.RNN becomes ONNX's `RNN` op. Either
export takes well under a second. nn.LSTM and nn.GRU keep the dynamo exporter (ONNX `LSTM`/`GRU`; onnx_path.py).
"""

from __future__ import annotations

import io

import torch
from torch import Tensor, nn

from rnnbench.serve.loop_model import scripted_loop_model

LOOP_EXPORTER = "torch.onnx.export(dynamo=False) of torch.jit.script(serve/loop_model.py): time loop as ONNX Loop"
RNN_EXPORTER = "torch.onnx.export(dynamo=False), traced: nn.RNN as ONNX RNN (dynamo unrolls it)"


def has_rnn_kernel(model: nn.Module) -> bool:
    """Whether `model` runs an nn.RNN (tanh or relu), which the dynamo exporter unrolls at the export length."""
    return any(isinstance(module, nn.RNN) for module in model.modules())  # nn.LSTM and nn.GRU are not nn.RNNs


def _export_legacy(module: nn.Module, example: Tensor, per_step: bool) -> bytes:
    """The TorchScript-based exporter, batch and time axes dynamic (the output's time axis too when `per_step`)."""
    axes = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", **({1: "time"} if per_step else {})}}
    buffer = io.BytesIO()  # the legacy exporter returns nothing: it writes the serialized graph here
    torch.onnx.export(
        module, (example,), buffer, dynamo=False, input_names=["x"], output_names=["y"], dynamic_axes=axes
    )
    return buffer.getvalue()


def _per_step(model: nn.Module) -> bool:
    return getattr(model, "output_kind", "last") == "sequence"  # the head at every step: y has a time axis


def export_onnx_loop(model: nn.Module, example: Tensor) -> bytes:
    """`model` as an ONNX graph with batch and time axes dynamic and its loop over time kept a `Loop`."""
    return _export_legacy(scripted_loop_model(model), example, _per_step(model))


def export_onnx_rnn(model: nn.Module, example: Tensor) -> bytes:
    """A model running nn.RNN, traced by the TorchScript-based exporter: nn.RNN becomes ONNX's `RNN` op."""
    return _export_legacy(model, example, _per_step(model))
