"""Running cases: `run_case` (pure: a Case in, a result record out) and `run_suite` (serial, saves after every case)."""

from __future__ import annotations

import copy
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnnbench import __version__
from rnnbench.measure.backend import autocast_context, detect_backend, set_threads
from rnnbench.measure.env import check_dtype, env_fingerprint, resolve_device
from rnnbench.measure.flops import achieved_gflops, forward_flops
from rnnbench.measure.memory import PeakMemory
from rnnbench.measure.phases import reference_matmul_gflops, time_inference, time_train_step
from rnnbench.measure.timer import make_sync
from rnnbench.models.matching import match_case
from rnnbench.models.plugins import PluginModel
from rnnbench.models.registry import MODELS, Recurrent
from rnnbench.results.resume import check_resume_env, finished_ids, new_document
from rnnbench.results.store import save_atomic, utc_now_iso
from rnnbench.run.train import TrainLimits, make_optimizer, train
from rnnbench.suite.arch import is_plugin
from rnnbench.suite.schema import Case, Suite
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
    memory: dict[str, int | None] = {}
    # Peak memory per phase: the tracker resets and reads outside each timer, never inside a sample.
    with PeakMemory(device) as peak:
        train_timing = time_train_step(timed, optimizer, batch, task.loss, s.grad_clip, s.timing, device)
    memory["train_step"] = peak.peak_bytes
    inference = {}
    for size in s.inference.batch_sizes:
        on_event({"kind": "phase", "phase": f"timing inference b{size}"})
        inputs = task.sample(size, generator, device).inputs
        with PeakMemory(device) as peak:
            inference[f"b{size}"] = time_inference(timed, inputs, s.timing, device)
        memory[f"inference_b{size}"] = peak.peak_bytes
    backend = detect_backend(timed, batch.inputs)
    return {"train_timing": train_timing, "inference": inference, "backend": backend, "memory": memory}


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


def _flops(case: Case, task, model: Recurrent | PluginModel, step_ms: float, reference_gflops: float | None):
    s = case.settings
    if isinstance(model, PluginModel):  # its own `flops_per_step`, else no figure rather than a guess
        forward = model.forward_flops(case.seq_len, s.batch_size)
        if forward is None:
            return None
    else:
        forward = forward_flops(
            model.cell, task.input_size, model.hidden_sizes, model.bidirectional, case.seq_len, s.batch_size
        )
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
    started = time.perf_counter()
    record: dict[str, Any] = {
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
        "started_at": utc_now_iso(),
        "status": "ok",
        "error": None,
    }
    try:
        record.update(_run_case(case, options, on_event))
    except Exception as err:  # one broken case must not end a long run
        record["status"] = "failed"
        record["error"] = f"{type(err).__name__}: {err}".splitlines()[0][:500]
        record["traceback"] = traceback.format_exc(limit=8)
    record["wall_s"] = time.perf_counter() - started
    return record


def _run_case(case: Case, options: RunOptions, on_event: EventFn) -> dict[str, Any]:
    device = resolve_device(case.device)
    task = TASKS[case.task](seq_len=case.seq_len, **case.task_options)
    model = build_case_model(case, task, device)
    out: dict[str, Any] = {
        "gates": model.gates,
        "n_params": model.n_params,
        "n_core_params": model.n_core_params,
        "hidden_sizes": model.hidden_sizes,
        "input_size": task.input_size,
    }
    if isinstance(model, PluginModel):
        out.update(plugin=model.plugin, impl="plugin")
    if (matched := match_case(case, task.input_size)) is not None:
        out.update(hidden_size=matched.hidden_size, matched=matched.as_record())
    with PeakMemory(device) as memory:
        speed = _measure_speed(case, task, model, device, on_event)
        with PeakMemory(device) as training_memory:
            outcome = _train(case, task, model, device, on_event)
    step_ms = speed["train_timing"]["step_ms"]["median"]
    out.update(
        status=outcome.status,
        error=f"loss became non-finite at step {outcome.diverged_at}" if outcome.status == "diverged" else None,
        train={
            "steps": outcome.steps,
            "wall_ms": outcome.wall_ms,
            **speed["train_timing"],
            "curve": outcome.curve,
            "final": _final_summary(task, outcome.final),
            "steps_to_solve": outcome.steps_to_solve,
            "ms_to_solve": outcome.ms_to_solve,
            "diverged_at": outcome.diverged_at,
        },
        inference=speed["inference"],
        memory={"peak_bytes": memory.peak_bytes, "phases": {**speed["memory"], "training": training_memory.peak_bytes}},
        flops=_flops(case, task, model, step_ms, options.reference_gflops),
        backend=speed["backend"],
    )
    return out


def run_group(
    cases: list[Case], options: RunOptions = RunOptions(), on_event: EventFn = _ignore
) -> list[dict[str, Any]]:
    """One timing group (see `suite.expand.timing_groups`): a record per case, in the group's order. Pure and picklable."""
    return [run_case(case, options, on_event) for case in cases]


def run_suite(
    suite: Suite,
    cases: list[Case],
    out_path: Path,
    *,
    suite_path: str = "",
    resume_doc: dict[str, Any] | None = None,
    on_event: EventFn = _ignore,
) -> dict[str, Any]:
    """Run every case not already finished, saving the results file atomically after each one.

    A KeyboardInterrupt (Ctrl-C, or what a caller's SIGTERM handler raises) anywhere in the run
    saves the file with every finished case and the case in flight as `interrupted`, then
    propagates; `resume_doc` (that file, loaded) continues it: finished cases are skipped and
    interrupted ones run again. Resuming on another device, dtype or torch raises ResultsError.
    """
    device = resolve_device(suite.device)
    check_dtype(device, suite.dtype)
    with set_threads(suite.threads):
        env = env_fingerprint(device, suite.dtype)
        if resume_doc is None:
            doc = new_document(suite.model_dump(mode="json"), suite_path, env, __version__)
        else:
            check_resume_env(out_path, resume_doc, env)
            doc = resume_doc
            doc["status"] = "running"
            doc["cases"] = [c for c in doc["cases"] if c.get("status") != "interrupted"]
            doc.setdefault("resumed_at", []).append(utc_now_iso())
        done = finished_ids(doc)
        todo = [c for c in cases if c.id not in done]
        on_event({"kind": "run_start", "n_cases": len(cases), "n_todo": len(todo), "path": str(out_path)})
        in_flight: Case | None = None
        try:
            on_event({"kind": "phase", "phase": "reference matmul"})
            doc["reference"].setdefault("start", reference_matmul_gflops(device))
            save_atomic(out_path, doc)
            options = RunOptions(reference_gflops=doc["reference"]["start"]["matmul_gflops"])
            for index, case in enumerate(cases):
                if case.id in done:
                    continue
                in_flight = case
                on_event({"kind": "case_start", "index": index, "n_cases": len(cases), "id": case.id})
                record = run_case(case, options, on_event)
                doc["cases"].append(record)
                in_flight = None  # finished: an interrupt from here on must not mark it
                save_atomic(out_path, doc)
                on_event({"kind": "case_end", "index": index, "record": record})
            on_event({"kind": "phase", "phase": "reference matmul"})
            doc["reference"]["end"] = reference_matmul_gflops(device)
            doc["reference"]["matmul_gflops"] = doc["reference"]["start"]["matmul_gflops"]
            doc["status"] = "complete"
            doc["finished_at"] = utc_now_iso()
            save_atomic(out_path, doc)
        except KeyboardInterrupt as interrupt:
            if in_flight is not None:
                doc["cases"].append(_interrupted_record(in_flight, str(interrupt) or "SIGINT"))
            doc["status"] = "interrupted"
            doc["finished_at"] = None
            save_atomic(out_path, doc)  # atomic: a second interrupt here leaves the previous save whole
            raise
        on_event({"kind": "run_end", "path": str(out_path)})
    return doc


def _interrupted_record(case: Case, signal_name: str) -> dict[str, Any]:
    return {
        "id": case.id,
        "label": case.label,
        "arch": case.arch,
        "impl": case.settings.impl,
        "task": case.task,
        "seq_len": case.seq_len,
        "seed": case.seed,
        "interrupted_at": utc_now_iso(),
        "status": "interrupted",
        "error": f"interrupted by {signal_name}",
    }
