"""How a timing unit is timed: one case alone, a group interleaved in this process, or in `timing.processes` processes.

The way is chosen from explicit options (the group's size and its processes count), never from where
this code happens to run. A group whose paired timing fails falls back to timing each case alone, and
each case's speed block then says why (`paired_error`), so the fallback shows in the results.
"""

from __future__ import annotations

import copy
import traceback

import torch
from torch import nn

from rnnbench.measure.allocator import steady_malloc
from rnnbench.measure.backend import detect_backend
from rnnbench.measure.env import resolve_device
from rnnbench.measure.phases import time_inference, time_train_step
from rnnbench.results.events import EventFn
from rnnbench.results.records import InferenceJson
from rnnbench.run.build import build_case_model, timing_generator, with_dtype
from rnnbench.run.events import ignore
from rnnbench.run.group_timing import time_group
from rnnbench.run.parts import Failure, SpeedBlock
from rnnbench.run.timing_processes import time_group_in_processes
from rnnbench.run.train import make_optimizer
from rnnbench.suite.schema import Case
from rnnbench.tasks.registry import build_task

SOLO, PAIRED, PROCESSES = "solo", "paired", "processes"


def timing_method(cases: list[Case], processes: int) -> str:
    """SOLO for one case, PAIRED (interleaved here) for a group, PROCESSES for a group timed in `processes` > 1."""
    if len(cases) < 2:
        return SOLO
    return PROCESSES if processes > 1 else PAIRED


def time_cases(cases: list[Case], on_event: EventFn = ignore, *, processes: int | None = None) -> dict[str, SpeedBlock]:
    """A timing unit: every case's speed block by id, the group's models interleaved where there are several.

    `processes`: how many fresh processes time the group (None: the group's `timing.processes`).
    If the group timing itself fails (e.g. one model cannot build), each case is timed alone with the
    reason in `paired_error`, and a case whose own timing fails gets `{"error", "traceback"}` instead:
    one broken model loses no other.
    """
    steady_malloc()  # whichever process this runs in (driver, worker, Ray task) allocates like the others
    processes = cases[0].settings.timing.processes if processes is None and cases else processes or 1
    method = timing_method(cases, processes)
    speeds: dict[str, SpeedBlock] = {}
    paired_error = None
    try:
        if method == PROCESSES:
            speeds = time_group_in_processes(cases, processes, on_event)
        elif method == PAIRED:
            speeds = time_group(cases, on_event)
    except Exception as err:  # recorded on every case of the group, which is then timed case by case
        paired_error = one_line(err)
    for case in cases:
        if case.id not in speeds:
            speeds[case.id] = solo_speed(case, on_event)
            if paired_error is not None:
                speeds[case.id]["paired_error"] = paired_error
    return speeds


def one_line(err: Exception) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0][:500]


def failure(err: Exception) -> Failure:
    """A failed part's record: the error in one line and the traceback."""
    return {"error": one_line(err), "traceback": traceback.format_exc(limit=8)}


def solo_speed(case: Case, on_event: EventFn) -> SpeedBlock:
    try:
        device = resolve_device(case.device)
        task = build_task(case.task, case.seq_len, case.task_options)
        return measure_speed(case, task, build_case_model(case, task, device), device, on_event)
    except Exception as err:  # recorded on the case; its training still runs
        return SpeedBlock(**failure(err))


def measure_speed(case: Case, task, model: nn.Module, device: torch.device, on_event: EventFn) -> SpeedBlock:
    """Train-step and inference timings on a copy of the model, so training starts from the seed's weights."""
    s = case.settings
    timed = with_dtype(copy.deepcopy(model), device, case.dtype)
    optimizer = make_optimizer(s.optimizer.name, timed.parameters(), s.optimizer.lr)
    generator = timing_generator(case)
    batch = task.sample(s.batch_size, generator, device)
    on_event({"kind": "phase", "phase": "timing train step"})
    train_timing = time_train_step(timed, optimizer, batch, task.loss, s.grad_clip, s.timing, device)
    inference: dict[str, InferenceJson] = {}
    for size in s.inference.batch_sizes:
        on_event({"kind": "phase", "phase": f"timing inference b{size}"})
        inputs = task.sample(size, generator, device).inputs
        inference[f"b{size}"] = time_inference(timed, inputs, s.timing, device)
    backend = detect_backend(timed, batch.inputs)
    return SpeedBlock(train_timing=train_timing, inference=inference, backend=backend)
