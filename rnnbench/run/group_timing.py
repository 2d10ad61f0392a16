"""A timing group's models timed interleaved: train steps (with phases) and inference, each case's share."""

from __future__ import annotations

import hashlib

import torch
from typing_extensions import TypedDict

from rnnbench.measure.backend import detect_backend
from rnnbench.measure.env import resolve_device
from rnnbench.measure.paired import Entry, Interleaved, time_interleaved
from rnnbench.measure.phases import train_step_calls
from rnnbench.measure.timer import make_sync
from rnnbench.phases import PHASES
from rnnbench.results.events import EventFn
from rnnbench.results.records import InferenceJson
from rnnbench.run.build import Prepared, build_case_model, timing_generator, with_dtype
from rnnbench.run.parts import PairedBlock, SpeedBlock
from rnnbench.run.train import make_optimizer
from rnnbench.stats import summarize
from rnnbench.suite.expand import model_key
from rnnbench.suite.schema import Case
from rnnbench.tasks.registry import build_task


def group_id(cases: list[Case]) -> str:
    """A short stable name for a group: cases with the same one have round-aligned samples."""
    return hashlib.sha1("|".join(sorted(c.id for c in cases)).encode()).hexdigest()[:12]


class Budget(TypedDict):
    """A timing's budget: `time_interleaved`'s keyword arguments."""

    warmup: int
    min_repeats: int
    max_repeats: int
    max_seconds: float


def _budget(cases: list[Case], share: float = 1.0) -> Budget:
    # The group's budget is what its cases had when each was timed alone, seeds included: the time a
    # seed no longer spends re-timing the same work goes into more rounds (docs/paired-timing.md).
    # Timed in k processes, each gets 1/k of the seconds and of the round cap (warm-up is per process).
    cfg = cases[0].settings.timing
    return Budget(
        warmup=cfg.warmup,
        min_repeats=cfg.min_repeats,
        max_repeats=max(cfg.min_repeats, round(cfg.max_repeats * share)),
        max_seconds=cfg.max_seconds * len(cases) * share,
    )


def representatives(cases: list[Case]) -> dict[str, Case]:
    """The first seed of each model (`model_key`), in the group's order."""
    reps: dict[str, Case] = {}
    for case in cases:
        reps.setdefault(model_key(case), case)
    return reps


def prepare(reps: dict[str, Case], device: torch.device) -> dict[str, Prepared]:
    """Per representative: its model (seed weights, dtype wrapper), optimizer, fixed train batch and inference inputs."""
    prepared: dict[str, Prepared] = {}
    for key, case in reps.items():
        s = case.settings
        task = build_task(case.task, case.seq_len, case.task_options)
        model = with_dtype(build_case_model(case, task, device), device, case.dtype)
        generator = timing_generator(case)
        prepared[key] = Prepared(
            case=case,
            task=task,
            model=model,
            optimizer=make_optimizer(s.optimizer.name, model.parameters(), s.optimizer.lr),
            batch=task.sample(s.batch_size, generator, device),
            inputs={size: task.sample(size, generator, device).inputs for size in s.inference.batch_sizes},
        )
    return prepared


def time_group(cases: list[Case], on_event: EventFn, share: float = 1.0) -> dict[str, SpeedBlock]:
    """Speed blocks keyed by case id (the shape `speed.measure_speed` returns, plus `paired`).

    One representative per model (the first seed): the seed changes the weights, not the work, so
    every seed of a model shares its representative's samples (recorded as `paired.timed_as`).
    `share` is this call's part of the group's timing budget (`run.timing_processes`).
    """
    device = resolve_device(cases[0].device)
    sync = make_sync(device)
    reps = representatives(cases)
    gid = group_id(cases)
    s = cases[0].settings
    prepared = prepare(reps, device)
    train_entries = {key: train_entry(p, s.grad_clip) for key, p in prepared.items()}
    on_event({"kind": "phase", "phase": f"timing train step, {len(reps)} models interleaved"})
    train = time_interleaved(train_entries, device=device, sync=sync, seed=0, **_budget(cases, share))
    inference: dict[int, Interleaved] = {}
    for size in s.inference.batch_sizes:
        on_event({"kind": "phase", "phase": f"timing inference b{size}, {len(reps)} models interleaved"})
        entries = {key: inference_entry(p, size) for key, p in prepared.items()}
        for p in prepared.values():
            p.model.eval()
        try:
            with torch.inference_mode():
                inference[size] = time_interleaved(
                    entries, device=device, sync=sync, seed=size, **_budget(cases, share)
                )
        finally:
            for p in prepared.values():
                p.model.train()
    speeds: dict[str, SpeedBlock] = {}
    for key, p in prepared.items():
        speeds[key] = SpeedBlock(
            train_timing={
                "step_ms": summarize(train.total_ms[key]),
                "phases_ms": {name: summarize(train.phases_ms[key][name]) for name in PHASES},
            },
            inference={f"b{size}": inference_block(m.total_ms[key], size) for size, m in inference.items()},
            backend=detect_backend(p.model, p.batch.inputs),
        )
    out: dict[str, SpeedBlock] = {}
    for case in cases:
        key = model_key(case)
        out[case.id] = SpeedBlock(
            **speeds[key],
            paired=PairedBlock(
                group=gid,
                timed_as=reps[key].id,
                members=[c.id for c in reps.values()],
                order="interleaved: reversed (2 models) or shuffled then reversed, per round",
                rounds={"train_step": train.rounds, **{f"b{k}": m.rounds for k, m in inference.items()}},
            ),
        )
    return out


def inference_block(samples: list[float], size: int) -> InferenceJson:
    latency = summarize(samples)
    return InferenceJson(latency_ms=latency, seq_per_s=size / (latency["median"] * 1e-3))


def train_entry(p: Prepared, grad_clip: float | None) -> Entry:
    calls, zero_grad = train_step_calls(p.model, p.optimizer, p.batch, p.task.loss, grad_clip)
    return Entry(calls, zero_grad)


def inference_entry(p: Prepared, size: int) -> Entry:
    model, inputs = p.model, p.inputs[size]
    return Entry({"forward": lambda: model(inputs)})
