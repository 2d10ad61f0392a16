"""The most tensor memory a call had allocated at once, above what was allocated when it began: CUDA or CPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile

from rnnbench.measure.backend import quiet_native_stderr

_MEMORY_EVENT = "[memory]"


def peak_allocated_bytes(call: Callable[[], Any], device: torch.device | str) -> int | None:
    """Run `call` once; the peak of the bytes it had allocated and not yet freed, or None where not observable.

    CUDA: `max_memory_allocated` after `reset_peak_memory_stats`, minus `memory_allocated` on entry
    (the caching allocator's tensors; what it reserves beyond them is not counted). CPU: torch's
    allocator reports every allocation and free to the profiler (`profile_memory`), whose events,
    in time order, give the same running total. Either way it is tensor memory only: torch's own
    libraries, the interpreter and memory a kernel allocates outside torch's allocator are not in it.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return _cuda_peak(call, device)
    if device.type == "cpu":
        return _cpu_peak(call)
    return None


def _cuda_peak(call: Callable[[], Any], device: torch.device) -> int:
    torch.cuda.synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    call()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device)) - int(start)


def _cpu_peak(call: Callable[[], Any]) -> int | None:
    profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
    with quiet_native_stderr():  # the profiler's C++ start and stop lines would tear through a progress display
        profiler.start()
    try:
        call()
    finally:
        with quiet_native_stderr():
            profiler.stop()
    try:
        events = [e for e in profiler.profiler.kineto_results.events() if e.name() == _MEMORY_EVENT]  # type: ignore[union-attr]
        deltas = [(e.start_ns(), e.nbytes()) for e in events if e.device_type().name == "CPU"]  # type: ignore[union-attr]
    except AttributeError:  # a torch whose profiler keeps its events elsewhere: no figure rather than a guess
        return None
    running = peak = 0
    for _, nbytes in sorted(deltas, key=lambda d: d[0]):  # stable: same-time events keep the recorded order
        running += nbytes
        peak = max(peak, running)
    return peak
