"""The ONNX Runtime path: export with batch and time axes dynamic, then one inference session.

Fused LSTMs and GRUs go through the dynamo exporter; a model that steps through time in Python or TorchScript,
and nn.RNN, go through the TorchScript-based one, which keeps their time axis dynamic (onnx_loop.py).

Needs the `serve` extra (onnx, onnxscript, onnxruntime); without it the path is unsupported, not failed.
The session runs on the CPU provider with the suite's thread count for its intra-op and inter-op pools,
its nodes in sequence as eager runs them (so the inter-op pool idles); on CUDA it runs on the CUDA
provider where installed.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from rnnbench.serve.onnx_loop import LOOP_EXPORTER, RNN_EXPORTER, export_onnx_loop, export_onnx_rnn, has_rnn_kernel
from rnnbench.serve.status import Unsupported

SERVE_PACKAGES = ("onnx", "onnxscript", "onnxruntime")  # the exporter needs the first two, the session the last
EXTRA_HINT = "pip install 'rnnbench[serve]'"


def require_serve_extra() -> Any:
    """onnxruntime, imported; `Unsupported` naming the first missing package of the extra."""
    modules = {}
    for name in SERVE_PACKAGES:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError:
            raise Unsupported(f"{name} is not installed: {EXTRA_HINT}") from None
    return modules["onnxruntime"]


EXPORT_STEPS = 3  # the example's length at export: the axis is dynamic, and tracing cost grows with it (below)


def export_example(example: Tensor) -> Tensor:
    """The first few steps of `example`. Exporting nn.GRU or nn.LSTM propagates shapes through their
    decomposition, one cell per step (about 1 s a step under load on the 2-core VM); the time axis stays
    dynamic, so a short example exports the same graph. Not 1 (an axis of size 1 is specialized), never
    the batch's size (two equal sizes would be taken for one symbol)."""
    steps = EXPORT_STEPS if example.shape[0] != EXPORT_STEPS else EXPORT_STEPS + 1
    # contiguous: a sliced view would export its strides as graph inputs (aten.sym_stride, which ONNX lacks)
    return (example[:, :steps] if example.shape[1] > steps else example).contiguous()


def export_onnx(model: nn.Module, example: Tensor, dynamic_time: bool = True) -> bytes:
    """The model as an ONNX graph, exported at `example`'s shape with the batch (and time) axes left free.

    `Dim.AUTO` lets the exporter keep an axis dynamic where the model allows it and fix it where the
    model does not (a Python loop over time is unrolled at the example's length): such a graph then
    fails, or differs, at the second length of the numerics check, which is what marks it.
    """
    first = next(iter(inspect.signature(model.forward).parameters))
    axes = {0: torch.export.Dim.AUTO, **({1: torch.export.Dim.AUTO} if dynamic_time else {})}
    program = torch.onnx.export(
        model, (example,), dynamo=True, dynamic_shapes={first: axes}, input_names=["x"], output_names=["y"]
    )
    if program is None:  # the legacy exporter's return; the dynamo exporter always returns its program
        raise RuntimeError("torch.onnx.export returned no program")
    return program.model_proto.SerializeToString()


def _session(ort: Any, graph: bytes, device: torch.device, threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: its warnings would reach the console past the capture
    # no busy-waiting between calls: the paths take turns with eager, and a spinning pool would slow eager's turn
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(graph, options, providers=providers)


DYNAMO_EXPORTER = "torch.onnx.export(dynamo=True)"


def _graph(model: nn.Module, example: Tensor, dynamic_time: bool, loops: bool) -> tuple[bytes, str]:
    """The serialized graph and the exporter that wrote it: a model looping over time in Python or TorchScript
    through the TorchScript-based exporter (its loop as ONNX Loop, onnx_loop.py), and so does nn.RNN, which
    dynamo unrolls (the TorchScript-based exporter has ONNX's RNN op); nn.LSTM and nn.GRU through dynamo."""
    if loops and dynamic_time:
        return export_onnx_loop(model, example), LOOP_EXPORTER
    if has_rnn_kernel(model) and dynamic_time:
        return export_onnx_rnn(model, example), RNN_EXPORTER
    return export_onnx(model, example, dynamic_time), DYNAMO_EXPORTER


def prepare_onnxruntime(
    model: nn.Module,
    example: Tensor,
    device: torch.device,
    threads: int,
    dynamic_time: bool = True,
    loops: bool = False,
) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Callable[[], object]], dict[str, object], bytes]:
    """(call, bind, details, graph): outputs as torch tensors on `device`, the timed call on numpy feeds made once,
    and the exported graph (a timing process loads it instead of exporting again: `session_from_graph`).
    `loops`: the model steps through time in Python or TorchScript (impl cell or scripted)."""
    require_serve_extra()
    example = export_example(example) if dynamic_time else example
    graph, exporter = _graph(model, example, dynamic_time, loops)
    call, bind, details = session_from_graph(graph, device, threads)
    details.update(exporter=exporter, dynamic_time=dynamic_time, exported_at=list(example.shape))
    return call, bind, details, graph


def session_from_graph(
    graph: bytes, device: torch.device, threads: int
) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Callable[[], object]], dict[str, object]]:
    """(call, bind, details) of one inference session on an exported graph."""
    ort = require_serve_extra()
    session = _session(ort, graph, device, threads)
    name = session.get_inputs()[0].name

    def call(x: Tensor) -> Tensor:
        return torch.from_numpy(session.run(None, {name: x.detach().cpu().numpy()})[0]).to(x.device)

    def bind(x: Tensor) -> Callable[[], object]:
        feeds = {name: x.detach().cpu().numpy()}  # converted here, outside the timed call
        return lambda: session.run(None, feeds)

    details: dict[str, object] = {
        "onnxruntime": ort.__version__,
        "providers": list(session.get_providers()),
        "intra_op_threads": threads,
        "inter_op_threads": threads,
    }
    return call, bind, details
