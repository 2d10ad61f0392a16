"""What the runner measures for a case: train-step phases, inference latency, the reference matmul."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn

from rnnbench.measure.flops import achieved_gflops
from rnnbench.measure.timer import make_sync, time_fn, time_fn_detailed, time_phases
from rnnbench.phases import PHASES
from rnnbench.stats import summarize


class TimingSettings(Protocol):
    """What the timers read from a suite's `timing:` block (suite.TimingConfig or any look-alike)."""

    warmup: int
    min_repeats: int
    max_repeats: int
    max_seconds: float
    target_rel_ci: float


def _timer_options(cfg: TimingSettings) -> dict[str, Any]:
    return {
        "warmup": cfg.warmup,
        "min_repeats": cfg.min_repeats,
        "max_repeats": cfg.max_repeats,
        "max_seconds": cfg.max_seconds,
        "target_rel_ci": cfg.target_rel_ci,
    }


def train_step_calls(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: Any,
    loss_fn: Callable[[torch.Tensor, Any], torch.Tensor],
    grad_clip: float | None,
) -> tuple[dict[str, Callable[[], None]], Callable[[], None]]:
    """A training step as its timed phases (forward + loss, backward, clipping + optimizer.step) and its
    untimed zero_grad: the one definition of a step, for the lone timer and the interleaved one."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    pending: dict[str, torch.Tensor] = {}

    def zero_grad() -> None:
        optimizer.zero_grad(set_to_none=True)

    def forward() -> None:
        pending["loss"] = loss_fn(model(batch.inputs), batch)

    def backward() -> None:
        pending.pop("loss").backward()

    def optimizer_step() -> None:
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(parameters, grad_clip)
        optimizer.step()

    return {"forward": forward, "backward": backward, "optimizer": optimizer_step}, zero_grad


def time_train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: Any,
    loss_fn: Callable[[torch.Tensor, Any], torch.Tensor],
    grad_clip: float | None,
    cfg: TimingSettings,
    device: torch.device | str,
) -> dict[str, Any]:
    """Time training steps on one fixed batch: whole steps and their forward / backward / optimizer phases.

    A step is zero_grad (untimed), forward + loss, backward, then gradient clipping and
    optimizer.step() (the optimizer phase). `step_ms` is whole-step wall time by the
    host clock, synchronized at both ends. On the CPU it comes from the same steps as
    the phases (the clock is read between phases, the total spans first to last read);
    on CUDA the phases are timed with CUDA events in one block and whole steps in a
    second block with host clock + synchronize, since events measure GPU time only.
    The weights change as steps run: time a copy if that matters.
    """
    device = torch.device(device)
    sync = make_sync(device)
    calls, zero_grad = train_step_calls(model, optimizer, batch, loss_fn, grad_clip)
    phases = time_phases(
        calls,
        before_each=zero_grad,
        device=device,
        sync=sync,
        **_timer_options(cfg),
    )
    if device.type == "cuda":

        def whole_step() -> None:
            for call in calls.values():
                call()

        step_samples = time_fn(whole_step, before_each=zero_grad, sync=sync, **_timer_options(cfg))
    else:
        step_samples = phases.total_ms
    return {
        "step_ms": summarize(step_samples),
        "phases_ms": {name: summarize(phases.phases_ms[name]) for name in PHASES},
    }


def time_inference(
    model: nn.Module, inputs: torch.Tensor, cfg: TimingSettings, device: torch.device | str
) -> dict[str, Any]:
    """Latency of one forward pass on `inputs` (batch first) in eval mode under inference_mode; throughput from its median."""
    sync = make_sync(device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            samples = time_fn(lambda: model(inputs), sync=sync, **_timer_options(cfg))
    finally:
        model.train(was_training)
    latency = summarize(samples)
    batch_size = int(inputs.shape[0])
    return {"latency_ms": latency, "seq_per_s": batch_size / (latency["median"] * 1e-3)}


def reference_matmul_gflops(
    device: torch.device | str, size: int = 1024, dtype: torch.dtype = torch.float32
) -> dict[str, Any]:
    """GFLOP/s of a fixed (size x size) @ (size x size) matmul: the machine's practical peak right now.

    Runs under the process's current flags (threads, TF32), the same the models run
    under, so "% of matmul peak" compares like with like.
    """
    device = torch.device(device)
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    right = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    measurement = time_fn_detailed(
        lambda: torch.mm(left, right, out=out),
        warmup=3,
        min_repeats=10,
        max_repeats=1000,
        max_seconds=1.0,
        target_rel_ci=0.02,
        sync=make_sync(device),
        clock=time.perf_counter,  # never the knob's padded clock: it fakes a slower RNN, not a slower machine
    )
    timing = summarize(measurement.samples_ms)
    return {
        "matmul_gflops": achieved_gflops(2 * size**3, timing["median"]),
        "matmul_ms": timing,
        "size": size,
        "dtype": str(dtype).removeprefix("torch."),
    }
