"""The inference paths behind one interface: `prepare(context) -> Served`, or `Unsupported` when a path cannot run here.

A path's preparation (scripting, compiling, exporting plus its session) happens here, outside every
timer; `Served.bind` returns the call that is timed, with its inputs already in the path's own form
(ONNX Runtime's numpy feeds), so the timed region holds nothing but the work.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnbench.serve.loop_model import scripted_loop_model
from rnnbench.serve.onnx_path import prepare_onnxruntime
from rnnbench.serve.status import Unsupported


@dataclass(frozen=True)
class PathContext:
    """What every path is prepared from: the trained model in eval mode and the inputs it will see."""

    model: nn.Module
    example: Tensor  # the input scripted / exported at: the suite's seq_len, more than one sequence
    device: torch.device
    dtype: str
    threads: int  # the suite's thread count as applied to torch (ONNX Runtime gets the same)
    dynamic_time: bool = True  # False exports a static time axis (only a test wants that: the check must catch it)
    # the model steps through time in Python or TorchScript (impl cell or scripted), not in one fused kernel
    loops_over_time: bool = False


@dataclass(frozen=True)
class Served:
    """A prepared path: `call` gives outputs as a torch tensor (numerics, metric); `bind(x)` the timed call."""

    call: Callable[[Tensor], Tensor]
    bind: Callable[[Tensor], Callable[[], object]]
    details: dict[str, object] = field(default_factory=dict)
    graph: bytes | None = None  # ONNX Runtime's exported graph: what a timing process loads instead of exporting


TORCHSCRIPT_METHODS = {
    "trace": "torch.jit.trace",
    "script": "torch.jit.script of serve/loop_model.py: the time loop a prim::Loop",
}


def _module_served(module: Callable[[Tensor], Tensor], details: dict[str, object] | None = None) -> Served:
    return Served(call=module, bind=lambda x: lambda: module(x), details=details or {})


def prepare_eager(ctx: PathContext) -> Served:
    return _module_served(ctx.model)


def prepare_torchscript(ctx: PathContext) -> Served:
    """`torch.jit.trace` then `torch.jit.freeze`. Tracing records the ops one call ran, so a loop over time
    would be unrolled at the example's length (the second-length check catches that): a model that loops
    over time is scripted instead, written as `loop_model.LoopModel`, and its loop stays a loop."""
    method = "script" if ctx.loops_over_time else "trace"
    compile_module = getattr(getattr(torch, "jit", None), method, None)
    if compile_module is None:
        raise Unsupported(f"torch.jit.{method} is not available in torch {torch.__version__}")
    with torch.no_grad():
        if ctx.loops_over_time:
            module = scripted_loop_model(ctx.model)
        else:
            module = compile_module(ctx.model, (ctx.example,), check_trace=False)
        frozen = torch.jit.freeze(module)
    return _module_served(frozen, {"torchscript": TORCHSCRIPT_METHODS[method]})


def prepare_compile(ctx: PathContext) -> Served:
    """`torch.compile` with its default backend (inductor, which needs a C compiler on the CPU); the
    first calls, where it compiles, are part of preparing it (`serve.case` makes them)."""
    if ctx.loops_over_time:
        # dynamo unrolls the loop into one graph of T cell steps: a peephole LSTM at T = 50 was still compiling
        # after 10 minutes, and no timer can stop a compile in flight
        raise Unsupported(
            f"torch.compile unrolls this model's loop over {ctx.example.shape[1]} time steps (many minutes); "
            "serve impl: fused instead"
        )
    # a fresh compiler cache, so each model's preparation counts its own compiling, not a previous model's
    torch._dynamo.reset()
    return _module_served(torch.compile(ctx.model), {"backend": "inductor"})


def prepare_int8(ctx: PathContext) -> Served:
    """Dynamic int8 quantization of the LSTM/GRU/Linear layers (weights int8, activations quantized per call)."""
    if ctx.device.type != "cpu":
        raise Unsupported(f"dynamic int8 quantization runs on the CPU only, not {ctx.device.type}")
    try:
        quantization = importlib.import_module("torch.ao.quantization")
        quantize_dynamic = quantization.quantize_dynamic
    except (ImportError, AttributeError):
        raise Unsupported(f"torch.ao.quantization.quantize_dynamic is gone in torch {torch.__version__}") from None
    quantized = quantize_dynamic(copy.deepcopy(ctx.model), dtype=torch.qint8)
    return _module_served(quantized, {"dtype": "qint8", "quantized": "dynamic"})


def _onnxruntime(ctx: PathContext) -> Served:
    call, bind, details, graph = prepare_onnxruntime(
        ctx.model, ctx.example, ctx.device, ctx.threads, ctx.dynamic_time, ctx.loops_over_time
    )
    return Served(call, bind, details, graph)


PATHS: dict[str, Callable[[PathContext], Served]] = {
    "eager": prepare_eager,
    "torchscript": prepare_torchscript,
    "compile": prepare_compile,
    "onnxruntime": _onnxruntime,
    "int8": prepare_int8,
}


def prepare_path(name: str, ctx: PathContext) -> Served:
    """The path prepared, or `Unsupported`; any other exception is the path failing (the caller records it)."""
    if name != "eager" and ctx.dtype != "float32":
        raise Unsupported(f"serving paths run float32; this suite runs {ctx.dtype} under autocast")
    return PATHS[name](ctx)
