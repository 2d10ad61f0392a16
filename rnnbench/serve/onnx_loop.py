"""A model that loops over time in Python or TorchScript, exported to ONNX with its loop as an ONNX `Loop`.

The dynamo exporter traces: it unrolls such a loop at the example's length and the graph's time axis is
frozen (|Δ| 1e-2 to 5e-2 at the second length on the peephole LSTMs). The TorchScript-based exporter
(`torch.onnx.export(dynamo=False)`) converts a scripted module's `prim::Loop` into `Loop`, whose trip count
is the input's length; so the model is first written as `loop_model.LoopModel` and scripted. Exporting takes
well under a second (no shape propagation per step). Fused models keep the dynamo exporter (onnx_path.py).
"""

from __future__ import annotations

import io

import torch
from torch import Tensor, nn

from rnnbench.serve.loop_model import scripted_loop_model

LOOP_EXPORTER = "torch.onnx.export(dynamo=False) of torch.jit.script(serve/loop_model.py): time loop as ONNX Loop"


def export_onnx_loop(model: nn.Module, example: Tensor) -> bytes:
    """`model` as an ONNX graph with batch and time axes dynamic and its loop over time kept a `Loop`."""
    scripted = scripted_loop_model(model)
    per_step = getattr(model, "output_kind", "last") == "sequence"  # the head at every step: y has a time axis
    axes = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", **({1: "time"} if per_step else {})}}
    buffer = io.BytesIO()  # the legacy exporter returns nothing: it writes the serialized graph here
    torch.onnx.export(
        scripted, (example,), buffer, dynamo=False, input_names=["x"], output_names=["y"], dynamic_axes=axes
    )
    return buffer.getvalue()
