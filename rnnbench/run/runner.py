"""A case's training unit (`train_case`), its record (`assemble`), and `run_case`/`run_group` that do a whole group in this process.

How a group is timed is run/speed.py; the driver (run/driver.py) runs the units through an executor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from rnnbench.measure.allocator import steady_malloc
from rnnbench.measure.env import resolve_device
from rnnbench.measure.flops import achieved_gflops, forward_flops
from rnnbench.measure.timer import make_sync
from rnnbench.models.matching import match_case
from rnnbench.models.plugins import PluginModel
from rnnbench.models.registry import Recurrent
from rnnbench.results.events import EventFn
from rnnbench.results.records import FinalJson, FlopsJson, TrainJson
from rnnbench.results.serving import ServingJson
from rnnbench.results.store import utc_now_iso
from rnnbench.run.build import autocast_for, build_case_model, with_dtype
from rnnbench.run.events import ignore
from rnnbench.run.memory import case_memory
from rnnbench.run.parts import CaseRecord, SpeedBlock, TrainPart
from rnnbench.run.serve_processes import serving_timer
from rnnbench.run.speed import failure, one_line, time_cases
from rnnbench.run.train import TrainLimits, make_optimizer, train
from rnnbench.serve.case import serve_case, serving_paths
from rnnbench.suite.schema import Case
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.plugins import task_plugin_record
from rnnbench.tasks.registry import build_task


@dataclass(frozen=True)
class RunOptions:
    """Run-wide settings that are not part of a case."""

    reference_gflops: float | None = None  # the machine's matmul GFLOP/s, for % of peak


def _train(case: Case, task, model: nn.Module, device: torch.device, on_event: EventFn):
    """The accuracy run: train from the seed's weights until solved or out of budget."""
    s = case.settings
    on_event({"kind": "phase", "phase": "training"})
    optimizer = make_optimizer(s.optimizer.name, model.parameters(), s.optimizer.lr)
    limits = TrainLimits(s.train.max_steps, s.train.max_seconds, s.train.eval_every, s.grad_clip)
    autocast = autocast_for(device, case.dtype)
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
        model.cell,
        task.input_size,
        model.hidden_sizes,
        model.bidirectional,
        case.seq_len,
        case.settings.batch_size,
        model.variant,
    )


def _flops(forward: int | None, step_ms: float, reference_gflops: float | None) -> FlopsJson | None:
    if forward is None:
        return None
    train_step = 3 * forward  # backward costs about twice the forward
    achieved = achieved_gflops(train_step, step_ms)
    pct = 100.0 * achieved / reference_gflops if reference_gflops else None
    return FlopsJson(forward=forward, train_step=train_step, achieved_gflops=achieved, pct_of_matmul_peak=pct)


def _final_summary(task, final: FinalJson) -> FinalJson:
    metric = final.get("metric")
    return {
        **final,
        "metric_name": task.metric_name,
        "higher_is_better": task.higher_is_better,
        "chance": task.chance,
        "chance_loss": task.chance_loss,
        "beats_chance": metric is not None and task.beats_chance(metric),
    }


def run_case(case: Case, options: RunOptions = RunOptions(), on_event: EventFn = ignore) -> CaseRecord:
    """Time and train one case; never raises for a failure inside the case (it is recorded instead)."""
    return run_group([case], options, on_event)[0]


def train_case(case: Case, options: RunOptions = RunOptions(), on_event: EventFn = ignore) -> TrainPart:
    """A training unit: everything in a case's record but its timings; never raises for a failure inside the case."""
    steady_malloc()
    started = time.perf_counter()
    part: TrainPart = {"started_at": utc_now_iso()}
    try:
        part.update(_train_part(case, on_event))
    except Exception as err:  # one broken case must not end a long run
        part.update({"status": "failed", **failure(err)})
    part["wall_s"] = time.perf_counter() - started
    return part


def _train_part(case: Case, on_event: EventFn) -> TrainPart:
    device = resolve_device(case.device)
    task = build_task(case.task, case.seq_len, case.task_options)
    model = build_case_model(case, task, device)
    out: TrainPart = {
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
        out.update({"plugin": model.plugin, "impl": "plugin"})
    if (task_plugin := task_plugin_record(case.task)) is not None:
        out["task_plugin"] = task_plugin  # where the task came from and the facts (causal, output kind) it stated
    if (matched := match_case(case, task.input_size)) is not None:
        out.update({"hidden_size": matched.hidden_size, "matched": matched.as_record()})
    on_event({"kind": "phase", "phase": "counting memory"})
    out["memory"] = case_memory(case, task, with_dtype(model, device, case.dtype), device)  # outside every timer
    outcome = _train(case, task, model, device, on_event)
    out.update(
        {
            "status": outcome.status,
            "error": f"loss became non-finite at step {outcome.diverged_at}" if outcome.status == "diverged" else None,
            "train": TrainJson(
                steps=outcome.steps,
                wall_ms=outcome.wall_ms,
                curve=outcome.curve,
                final=_final_summary(task, outcome.final),
                steps_to_solve=outcome.steps_to_solve,
                ms_to_solve=outcome.ms_to_solve,
                diverged_at=outcome.diverged_at,
            ),
        }
    )
    if outcome.status == "ok" and serving_paths(case):
        out["serving"] = _serving(case, task, model, device, on_event)
    return out


def _serving(case: Case, task, model: nn.Module, device: torch.device, on_event: EventFn) -> ServingJson:
    """The trained model through the suite's inference paths (rnnbench/serve); a failure here keeps the training."""
    on_event({"kind": "phase", "phase": f"serving through {len(serving_paths(case))} paths"})
    try:
        held_out = eval_batch(task, case.settings.train.eval_size, case.seed, device)
        timer = serving_timer(case.settings.timing.processes, on_event)
        return serve_case(case, task, with_dtype(model, device, case.dtype), device, held_out, timer)
    except Exception as err:  # the case trained: its record is kept, with why serving did not happen
        return ServingJson(error=one_line(err))


def case_header(case: Case) -> CaseRecord:
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


def assemble(case: Case, options: RunOptions, speed: SpeedBlock, trained: TrainPart) -> CaseRecord:
    """A case's record from its timing unit's speed block and its training unit's part (pure: no torch work)."""
    record = case_header(case)
    trained = trained.copy()
    forward = trained.pop("forward_flops", None)
    record.update(trained)  # type: ignore[typeddict-item]  # a TrainPart's keys are a CaseRecord's
    if record["status"] == "failed":
        return record
    if "error" in speed:  # trained, but its timing failed: the case is failed, with the timing's reason
        record.update({"status": "failed", "error": speed["error"], "traceback": speed.get("traceback")})
        return record
    step_ms = speed["train_timing"]["step_ms"]["median"]
    record["train"] = {**record["train"], **speed["train_timing"]}
    record.update(
        {
            "inference": speed["inference"],
            "flops": _flops(forward, step_ms, options.reference_gflops),
            "backend": speed["backend"],
        }
    )
    if "paired" in speed:
        record["paired"] = speed["paired"]
    if "timed_on" in speed:
        record["timed_on"] = speed["timed_on"]
    if "paired_error" in speed:  # the group's paired timing failed: this case was timed alone, and why
        record["paired_error"] = speed["paired_error"]
    return record


def run_group(cases: list[Case], options: RunOptions = RunOptions(), on_event: EventFn = ignore) -> list[CaseRecord]:
    """One timing group in this process: its timing unit, then each case's training unit; a record per case, in order."""
    return list(iter_group(cases, options, on_event))


def iter_group(
    cases: list[Case], options: RunOptions = RunOptions(), on_event: EventFn = ignore
) -> Iterator[CaseRecord]:
    """`run_group` one record at a time, each as soon as its case has trained (so a caller can save it)."""
    speeds = time_cases(cases, on_event)
    for case in cases:
        yield assemble(case, options, speeds[case.id], train_case(case, options, on_event))
