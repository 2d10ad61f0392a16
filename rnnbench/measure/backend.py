"""The torch execution environment of a measurement: kernel path, flags, threads, autocast dtype."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

# Op names the profiler records for each kernel path of a recurrent layer.
_CUDNN_OPS = ("aten::_cudnn_rnn", "aten::cudnn_rnn")
_ONEDNN_MARK = "mkldnn_rnn"  # aten::mkldnn_rnn_layer (and older aten::mkldnn_rnn)
_FUSED_SEQUENCE_OPS = ("aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu")

BACKENDS = ("cudnn", "onednn", "native", "python-loop")
DTYPES = ("float32", "bfloat16", "float16")


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence the profiler's C++ start/stop lines, which would tear through a live progress display."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def profiled_op_names(model: nn.Module, inputs: torch.Tensor) -> set[str]:
    """Names of every operator one forward pass of `model` on `inputs` dispatches (CPU-side profiler)."""
    with quiet_native_stderr(), profile(activities=[ProfilerActivity.CPU]) as profiler:
        model(inputs)
    return {event.name for event in profiler.events()}


def backend_from_op_names(names: set[str]) -> str:
    """Classify a forward's operators into the kernel path that ran the recurrence.

    cudnn: a cuDNN RNN op; onednn: a oneDNN (MKL-DNN) RNN layer op; native: ATen's
    fused sequence op (aten::lstm / gru / rnn_tanh / rnn_relu) looping in C++ over
    time; python-loop: none of those, so the time loop ran outside any sequence
    kernel - an nn.LSTMCell loop in Python, or a TorchScript-compiled cell loop.
    """
    if any(name in names for name in _CUDNN_OPS):
        return "cudnn"
    if any(_ONEDNN_MARK in name for name in names):
        return "onednn"
    if any(name in names for name in _FUSED_SEQUENCE_OPS):
        return "native"
    return "python-loop"


def detect_backend(model: nn.Module, inputs: torch.Tensor) -> str:
    """Which kernel path runs `model` on `inputs`: "cudnn" | "onednn" | "native" | "python-loop".

    Observed, not guessed from the configuration: one forward pass, with autograd as
    in a training step, runs under torch.profiler and its op names are classified
    by `backend_from_op_names`. A silent fallback (cuDNN refusing a shape, oneDNN
    disabled) therefore shows up as a different backend in the results.
    """
    return backend_from_op_names(profiled_op_names(model, inputs))


def env_flags() -> dict:
    """Global switches that change which kernels run or how fast: recorded with every run."""
    flags = {
        "cudnn_enabled": torch.backends.cudnn.enabled,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "mkldnn_available": torch.backends.mkldnn.is_available(),
    }
    return flags


@contextmanager
def set_threads(threads: int | None) -> Iterator[int]:
    """Run the block with `torch.set_num_threads(threads)`, restoring the caller's count after; None changes nothing."""
    previous = torch.get_num_threads()
    if threads is None:
        yield previous
        return
    if threads < 1:
        raise ValueError("threads must be >= 1")
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(previous)


def dtype_supported(device_type: str, dtype: str) -> bool:
    """Whether autocast to `dtype` runs on this machine's `device_type` ("cpu" or "cuda")."""
    if dtype not in DTYPES:
        return False
    if device_type == "cuda" and not torch.cuda.is_available():
        return False
    if dtype == "float32":
        return device_type in ("cpu", "cuda")
    if dtype == "bfloat16":
        if device_type == "cpu":
            return True
        return device_type == "cuda" and torch.cuda.is_bf16_supported()
    return device_type == "cuda"  # float16 autocast on the CPU is too patchy to benchmark


def autocast_context(device: torch.device | str, dtype: str) -> AbstractContextManager:
    """A fresh context for the forward pass: nothing for float32, torch.autocast for bfloat16 / float16."""
    device_type = torch.device(device).type
    if not dtype_supported(device_type, dtype):
        raise ValueError(f"dtype {dtype!r} is not supported on {device_type} here")
    if dtype == "float32":
        return nullcontext()
    return torch.autocast(device_type=device_type, dtype=getattr(torch, dtype))
