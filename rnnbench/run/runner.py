"""Running cases: `run_case` (pure: a Case in, a result record out) and `run_group` (one timing group); see run/driver.py."""

from __future__ import annotations

import copy
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rnnbench.measure.allocator import steady_malloc
from rnnbench.measure.backend import autocast_context, detect_backend
from rnnbench.measure.env import resolve_device
from rnnbench.measure.flops import achieved_gflops, forward_flops
from rnnbench.measure.phases import time_inference, time_train_step
from rnnbench.measure.timer import make_sync
from rnnbench.models.matching import match_case
from rnnbench.models.plugins import PluginModel
from rnnbench.models.registry import MODELS, Recurrent
from rnnbench.results.store import utc_now_iso
from rnnbench.run.group_timing import time_group
from rnnbench.run.memory import case_memory
from rnnbench.run.timing_processes import time_group_in_processes
from rnnbench.run.train import TrainLimits, make_optimizer, train
from rnnbench.suite.arch import is_plugin
from rnnbench.suite.schema import Case
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.registry import TASKS

EventFn = Callable[[dict[str, Any]], None]


def _ignore(_: dict[str, Any]) -> None:
    pass


@dataclass(frozen=True)
class RunOptions:
    """Run-wide settings that are not part of a case."""

    reference_gflops: float | None = None  # the machine's matmul GFLOP/s, for % of peak


class Autocast(nn.Module):
    """Runs the wrapped model's forward under autocast, so timers and the trainer need not know the dtype."""

    def __init__(self, inner: nn.Module, device: torch.device, dtype: str) -> None:
        super().__init__()
        self.inner, self.device, self.dtype = inner, device, dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with autocast_context(self.device, self.dtype):
            return self.inner(x).float()


def build_case_model(case: Case, task, device: torch.device) -> Recurrent | PluginModel:
    s = case.settings
    matched = match_case(case, task.input_size)  # match_params: the size is chosen before any weight exists
    torch.manual_seed(case.seed)  # the initial weights are a function of the seed alone
    if is_plugin(case.arch):  # imported and checked before any case started; built here, outside every timer
        plugin = PluginModel(
            arch=case.arch,
            input_size=task.input_size,
            output_size=task.output_size,
            output_kind=task.output_kind,
            hidden_size=s.hidden_size,
            num_layers=s.num_layers,
            bidirectional=case.bidirectional,
        )
        return plugin.to(device)
    model = MODELS[case.arch](
        input_size=task.input_size,
        output_size=task.output_size,
        output_kind=task.output_kind,
        hidden_size=s.hidden_size if matched is None else matched.hidden_size,
        num_layers=s.num_layers,
        impl=s.impl,
        forget_bias=s.forget_bias,
        packed=s.packed and task.left_padded,
    )
    return model.to(device)


def _with_dtype(model: nn.Module, device: torch.device, dtype: str) -> nn.Module:
    return model if dtype == "float32" else Autocast(model, device, dtype)


def _measure_speed(case: Case, task, model: nn.Module, device: torch.device, on_event: EventFn) -> dict[str, Any]:
    """Train-step and inference timings on a copy of the model, so training starts from the seed's weights."""
    s = case.settings
    timed = _with_dtype(copy.deepcopy(model), device, case.dtype)
    optimizer = make_optimizer(s.optimizer.name, timed.parameters(), s.optimizer.lr)
    generator = torch.Generator().manual_seed(10_000 + case.seed)
    batch = task.sample(s.batch_size, generator, device)
    on_event({"kind": "phase", "phase": "timing train step"})
    train_timing = time_train_step(timed, optimizer, batch, task.loss, s.grad_clip, s.timing, device)
    inference = {}
    for size in s.inference.batch_sizes:
        on_event({"kind": "phase", "phase": f"timing inference b{size}"})
        inputs = task.sample(size, generator, device).inputs
        inference[f"b{size}"] = time_inference(timed, inputs, s.timing, device)
    backend = detect_backend(timed, batch.inputs)
    return {"train_timing": train_timing, "inference": inference, "backend": backend}


def _train(case: Case, task, model: nn.Module, device: torch.device, on_event: EventFn):
    """The accuracy run: train from the seed's weights until solved or out of budget."""
    s = case.settings
    on_event({"kind": "phase", "phase": "training"})
    optimizer = make_optimizer(s.optimizer.name, model.parameters(), s.optimizer.lr)
    limits = TrainLimits(s.train.max_steps, s.train.max_seconds, s.train.eval_every, s.grad_clip)
    autocast = (lambda: autocast_context(device, case.dtype)) if case.dtype != "float32" else nullcontext
    return train(
        model,
        optimizer,
        task,
        train_batches(task, s.batch_size, case.seed, device, s.train_size),
        eval_batch(task, s.train.eval_size, case.seed, device),
        limits,
        autocast=autocast,
        sync=make_sync(device),
        on_progress=lambda p: on_event({"kind": "progress", **p}),
    )


def _forward_flops(case: Case, task, model: Recurrent | PluginModel) -> int | None:
    """Forward matmul FLOPs of one step at the case's batch; a plugin's own `flops_per_step`, else None, not a guess."""
    if isinstance(model, PluginModel):
        return model.forward_flops(case.seq_len, case.settings.batch_size)
    return forward_flops(
        model.cell, task.input_size, model.hidden_sizes, model.bidirectional, case.seq_len, case.settings.batch_size
    )


def _flops(forward: int | None, step_ms: float, reference_gflops: float | None) -> dict[str, Any] | None:
    if forward is None:
        return None
    train_step = 3 * forward  # backward costs about twice the forward
    achieved = achieved_gflops(train_step, step_ms)
    pct = 100.0 * achieved / reference_gflops if reference_gflops else None
    return {"forward": forward, "train_step": train_step, "achieved_gflops": achieved, "pct_of_matmul_peak": pct}


def _final_summary(task, final: dict[str, Any]) -> dict[str, Any]:
    metric = final.get("metric")
    return {
        **final,
        "metric_name": task.metric_name,
        "higher_is_better": task.higher_is_better,
        "chance": task.chance,
        "chance_loss": task.chance_loss,
        "beats_chance": metric is not None and task.beats_chance(metric),
    }


def run_case(case: Case, options: RunOptions = RunOptions(), on_event: EventFn = _ignore) -> dict[str, Any]:
    """Time and train one case; never raises for a failure inside the case (it is recorded instead)."""
    return run_group([case], options, on_event)[0]


def time_cases(cases: list[Case], on_event: EventFn = _ignore) -> dict[str, dict[str, Any]]:
    """A timing unit: every case's speed block by id, the group's models interleaved where there are several.

    If the group timing itself fails (e.g. one model cannot build), each case is timed alone, and a
    case whose own timing fails gets `{"error", "traceback"}` instead: one broken model loses no other.
    """
    steady_malloc()  # whichever process this runs in (driver, worker, Ray task) allocates like the others
    speeds: dict[str, dict[str, Any]] = {}
    if len(cases) > 1:
        try:
            processes = cases[0].settings.timing.processes
            if processes > 1:
                speeds = time_group_in_processes(cases, processes, on_event)
            else:
                speeds = time_group(cases, on_event, build_case_model, _with_dtype)
        except Exception:
            speeds = {}
    for case in cases:
        if case.id not in speeds:
            speeds[case.id] = _solo_speed(case, on_event)
    return speeds


def _failure(err: Exception) -> dict[str, Any]:
    return {
        "error": f"{type(err).__name__}: {err}".splitlines()[0][:500],
        "traceback": traceback.format_exc(limit=8),
    }


def _solo_speed(case: Case, on_event: EventFn) -> dict[str, Any]:
    try:
        device = resolve_device(case.device)
        task = TASKS[case.task](seq_len=case.seq_len, **case.task_options)
        return _measure_speed(case, task, build_case_model(case, task, device), device, on_event)
    except Exception as err:  # recorded on the case; its training still runs
        return _failure(err)


def train_case(case: Case, options: RunOptions = RunOptions(), on_event: EventFn = _ignore) -> dict[str, Any]:
    """A training unit: everything in a case's record but its timings; never raises for a failure inside the case."""
    steady_malloc()
    started = time.perf_counter()
    part: dict[str, Any] = {"started_at": utc_now_iso()}
    try:
        part.update(_train_part(case, on_event))
    except Exception as err:  # one broken case must not end a long run
        part.update(status="failed", **_failure(err))
    part["wall_s"] = time.perf_counter() - started
    return part


def _train_part(case: Case, on_event: EventFn) -> dict[str, Any]:
    device = resolve_device(case.device)
    task = TASKS[case.task](seq_len=case.seq_len, **case.task_options)
    model = build_case_model(case, task, device)
    out: dict[str, Any] = {
        "gates": model.gates,
        "n_params": model.n_params,
        "n_core_params": model.n_core_params,
        "hidden_sizes": model.hidden_sizes,
        "input_size": task.input_size,
        "forward_flops": _forward_flops(case, task, model),
    }
    if (data := task.data_record()) is not None:
        out["data"] = data  # the data set's hash (and the corpus's Python): compare refuses a mismatch
    if isinstance(model, PluginModel):
        out.update(plugin=model.plugin, impl="plugin")
    if (matched := match_case(case, task.input_size)) is not None:
        out.update(hidden_size=matched.hidden_size, matched=matched.as_record())
    on_event({"kind": "phase", "phase": "counting memory"})
    out["memory"] = case_memory(case, task, _with_dtype(model, device, case.dtype), device)  # outside every timer
    outcome = _train(case, task, model, device, on_event)
    out.update(
        status=outcome.status,
        error=f"loss became non-finite at step {outcome.diverged_at}" if outcome.status == "diverged" else None,
        train={
            "steps": outcome.steps,
            "wall_ms": outcome.wall_ms,
            "curve": outcome.curve,
            "final": _final_summary(task, outcome.final),
            "steps_to_solve": outcome.steps_to_solve,
            "ms_to_solve": outcome.ms_to_solve,
            "diverged_at": outcome.diverged_at,
        },
    )
    return out


def case_header(case: Case) -> dict[str, Any]:
    """The fields every record of a case starts with, whatever became of it."""
    return {
        "id": case.id,
        "label": case.label,
        "arch": case.arch,
        "impl": case.settings.impl,
        "task": case.task,
        "task_options": case.task_options,
        "seq_len": case.seq_len,
        "hidden_size": case.settings.hidden_size,
        "num_layers": case.settings.num_layers,
        "batch_size": case.settings.batch_size,
        "train_size": case.settings.train_size,
        "seed": case.seed,
        "settings": case.settings.model_dump(),
        "status": "ok",
        "error": None,
    }


def assemble(case: Case, options: RunOptions, speed: dict[str, Any], trained: dict[str, Any]) -> dict[str, Any]:
    """A case's record from its timing unit's speed block and its training unit's part (pure: no torch work)."""
    record = case_header(case)
    trained = dict(trained)
    forward = trained.pop("forward_flops", None)
    record.update(trained)
    if record["status"] == "failed":
        return record
    if "error" in speed:  # trained, but its timing failed: the case is failed, with the timing's reason
        record.update(status="failed", error=speed["error"], traceback=speed.get("traceback"))
        return record
    step_ms = speed["train_timing"]["step_ms"]["median"]
    record["train"] = {**record["train"], **speed["train_timing"]}
    record.update(
        inference=speed["inference"],
        flops=_flops(forward, step_ms, options.reference_gflops),
        backend=speed["backend"],
    )
    if "paired" in speed:
        record["paired"] = speed["paired"]
    if "timed_on" in speed:
        record["timed_on"] = speed["timed_on"]
    return record


def run_group(
    cases: list[Case], options: RunOptions = RunOptions(), on_event: EventFn = _ignore
) -> list[dict[str, Any]]:
    """One timing group in this process: its timing unit, then each case's training unit; a record per case, in order."""
    return list(iter_group(cases, options, on_event))


def iter_group(
    cases: list[Case], options: RunOptions = RunOptions(), on_event: EventFn = _ignore
) -> Iterator[dict[str, Any]]:
    """`run_group` one record at a time, each as soon as its case has trained (so a caller can save it)."""
    speeds = time_cases(cases, on_event)
    for case in cases:
        yield assemble(case, options, speeds[case.id], train_case(case, options, on_event))
