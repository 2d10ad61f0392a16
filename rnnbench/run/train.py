"""One training run: optimizer steps, held-out evaluation, the learning curve and time-to-solve."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch
from torch import nn
from typing_extensions import TypedDict

from rnnbench.results.records import FinalJson
from rnnbench.tasks.base import Batch, Task


class ProgressPayload(TypedDict):
    """What training reports at each evaluation point (the runner sends it as a `progress` event)."""

    step: int
    max_steps: int
    loss: float
    metric: float | None
    elapsed_s: float


ProgressFn = Callable[[ProgressPayload], None]


@dataclass
class TrainLimits:
    max_steps: int
    max_seconds: float
    eval_every: int
    grad_clip: float | None


@dataclass
class TrainOutcome:
    status: str  # ok | diverged
    steps: int
    wall_ms: float  # training time, evaluation excluded
    curve: list[list[float]] = field(default_factory=list)  # [step, elapsed_ms, loss, metric]
    final: FinalJson = field(default_factory=lambda: FinalJson())
    steps_to_solve: int | None = None
    ms_to_solve: float | None = None
    diverged_at: int | None = None


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    factories = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
        "rmsprop": torch.optim.RMSprop,
    }
    return factories[name](params, lr=lr)


def evaluate(model: nn.Module, task: Task, batch: Batch, autocast: Callable[[], AbstractContextManager] = nullcontext):
    model.eval()
    with torch.inference_mode(), autocast():
        outputs = model(batch.inputs)
    model.train()
    return task.evaluate(outputs.float(), batch)


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    task: Task,
    batches: Iterator[Batch],
    eval_set: Batch,
    limits: TrainLimits,
    *,
    autocast: Callable[[], AbstractContextManager] = nullcontext,
    sync: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.perf_counter,
    on_progress: ProgressFn | None = None,
) -> TrainOutcome:
    """Train until solved on the held-out set, or until max_steps or max_seconds.

    The host waits for the device only at evaluation points, so the steps in between
    run as they would in a real training loop; evaluation time is kept out of the clock.
    """
    model.train()
    outcome = TrainOutcome(status="ok", steps=0, wall_ms=0.0)
    train_seconds = 0.0
    sync()
    segment_start = clock()
    step = 0
    while step < limits.max_steps:
        loss = _train_step(model, optimizer, task, next(batches), autocast, limits.grad_clip)
        step += 1
        out_of_time = train_seconds + (clock() - segment_start) >= limits.max_seconds
        if step % limits.eval_every == 0 or step == limits.max_steps or out_of_time:
            sync()
            train_seconds += clock() - segment_start
            point = _Point(step, train_seconds, loss.item())
            if _evaluate_at(point, outcome, model, task, eval_set, limits, autocast, on_progress) or out_of_time:
                break
            sync()
            segment_start = clock()
    outcome.steps = step
    outcome.wall_ms = train_seconds * 1e3
    return outcome


def _train_step(model: nn.Module, optimizer, task: Task, batch: Batch, autocast, grad_clip: float | None):
    """One optimizer step on `batch`; its loss, still on the device (read only at evaluation points)."""
    optimizer.zero_grad(set_to_none=True)
    with autocast():
        loss = task.loss(model(batch.inputs), batch)
    loss.backward()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss


@dataclass(frozen=True)
class _Point:
    """An evaluation point: the step, the training seconds so far, the last step's loss."""

    step: int
    train_seconds: float
    train_loss: float


def _evaluate_at(
    point: _Point, outcome: TrainOutcome, model, task: Task, eval_set: Batch, limits: TrainLimits, autocast, on_progress
) -> bool:
    """Evaluate on the held-out set and record it in `outcome`; True when training ends here (diverged or solved)."""
    if not math.isfinite(point.train_loss):
        outcome.status, outcome.diverged_at = "diverged", point.step
        outcome.final = {"loss": point.train_loss, "metric": None, "solved": False}
        return True
    result = evaluate(model, task, eval_set, autocast)
    elapsed_ms = point.train_seconds * 1e3
    outcome.curve.append([point.step, elapsed_ms, result.loss, result.metric])
    outcome.final = {
        "loss": result.loss,
        "metric": result.metric,
        "solved": result.solved,
        "train_loss": point.train_loss,
    }
    if result.extra:  # a task's further metrics (series: MAE, MSE / persistence; text: macro-F1)
        outcome.final["metrics"] = result.extra
    if on_progress:
        on_progress(
            ProgressPayload(
                step=point.step,
                max_steps=limits.max_steps,
                loss=result.loss,
                metric=result.metric,
                elapsed_s=point.train_seconds,
            )
        )
    if result.solved and outcome.steps_to_solve is None:
        outcome.steps_to_solve, outcome.ms_to_solve = point.step, elapsed_ms
        return True
    return False
