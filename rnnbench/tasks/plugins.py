"""Task plugins: each built once, one batch drawn and scored at a tiny size before any case starts, and recorded.

The protocol is the `Task` base class (tasks/base.py): `Name(seq_len=T, **args)` returns a Task
whose `sample` (and `held_out`) give batches of inputs [B, T', input_size] float32 and targets
whose first dimension is B ([B, T', ...] for `sequence` tasks), scored by `loss` and `evaluate`.
A failure here is one line; `check_task_plugins` names the suite field.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import torch
from torch import Tensor

from rnnbench.suite.plugin_import import PluginError, failing_field, one_line
from rnnbench.suite.task_ref import is_task_plugin, resolve_task, task_spec
from rnnbench.tasks.base import Batch, Evaluation, Task
from rnnbench.tasks.registry import build_task

CHECK_BATCH = 2  # sequences drawn by the check: enough to catch a batch dimension in the wrong place


def _positive_int(task: Task, key: str) -> int:
    value = getattr(task, key, None)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PluginError(f"{key} must be a positive int, not {value!r}")
    return value


def _check_attributes(task: Task) -> None:
    _positive_int(task, "input_size")
    _positive_int(task, "output_size")
    if not isinstance(getattr(task, "metric_name", None), str):
        raise PluginError(f"metric_name must be a str, not {getattr(task, 'metric_name', None)!r}")
    if not isinstance(getattr(task, "higher_is_better", None), bool):
        raise PluginError(f"higher_is_better must be True or False, not {getattr(task, 'higher_is_better', None)!r}")
    chance = _call(task, "chance", lambda: task.chance)
    if chance is not None and (not isinstance(chance, (int, float)) or isinstance(chance, bool)):
        raise PluginError(f"chance must be a number or None, not {chance!r}")
    record = _call(task, "data_record()", task.data_record)
    if record is not None and not (
        isinstance(record, dict) and all(isinstance(record.get(k), str) for k in ("dataset", "sha256"))
    ):
        raise PluginError(f"data_record() must return None or a dict with str 'dataset' and 'sha256', not {record!r}")


def _call(task: Task, what: str, fn: Any) -> Any:
    try:
        return fn()
    except Exception as err:  # a plugin's method may raise anything
        raise PluginError(f"{what} raised {one_line(err)}") from None


def _check_batch(task: Task, batch: Any, what: str, size: int, exact: bool) -> Batch:
    if not isinstance(batch, Batch):
        raise PluginError(f"{what} returned a {type(batch).__name__}, not a Batch")
    x, y = batch.inputs, batch.targets
    n = x.shape[0] if isinstance(x, Tensor) and x.dim() == 3 else None
    if n is None or not (n == size if exact else 1 <= n <= size) or x.shape[1] < 1 or x.shape[2] != task.input_size:
        shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise PluginError(f"{what} inputs have shape {shape}, expected [{size}, T, {task.input_size}] (batch first)")
    if x.dtype != torch.float32:
        raise PluginError(f"{what} inputs are {x.dtype}, expected torch.float32")
    if not isinstance(y, Tensor) or y.dim() < 1 or y.shape[0] != n:
        shape = list(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise PluginError(f"{what} targets have shape {shape}, expected [{n}, ...]")
    if task.output_kind == "sequence" and (y.dim() < 2 or y.shape[1] != x.shape[1]):
        raise PluginError(f"{what} targets have shape {list(y.shape)}; a sequence task's are [{n}, {x.shape[1]}, ...]")
    if batch.lengths is not None and tuple(batch.lengths.shape) != (n,):
        raise PluginError(f"{what} lengths have shape {list(batch.lengths.shape)}, expected [{n}]")
    return batch


def _check_scoring(task: Task, batch: Batch) -> None:
    """loss and evaluate on zero outputs of the shape the model's head gives."""
    n, steps = batch.inputs.shape[:2]
    shape = (n, task.output_size) if task.output_kind == "last" else (n, steps, task.output_size)
    outputs = torch.zeros(shape, requires_grad=True)
    loss = _call(task, f"loss on outputs of shape {list(shape)}", lambda: task.loss(outputs, batch))
    if not isinstance(loss, Tensor) or loss.numel() != 1 or not math.isfinite(float(loss.detach())):
        raise PluginError(f"loss must return a finite scalar tensor, not {loss!r}"[:300])
    judged = _call(task, "evaluate", lambda: task.evaluate(outputs.detach(), batch))
    if not isinstance(judged, Evaluation):
        raise PluginError(f"evaluate returned a {type(judged).__name__}, not an Evaluation")


def check_task(name: str, seq_len: int, options: dict[str, Any]) -> None:
    """Build the task, draw a train and a held-out batch on the CPU, score one; PluginError says what is wrong."""
    try:
        task = build_task(name, seq_len, options)
    except PluginError:
        raise
    except Exception as err:  # a wrong `args` name is a TypeError here
        raise PluginError(f"the constructor raised {one_line(err)}") from None
    _check_attributes(task)
    generator = torch.Generator().manual_seed(0)
    batch = _check_batch(
        task, _call(task, "sample", lambda: task.sample(CHECK_BATCH, generator)), "sample", CHECK_BATCH, True
    )
    held = _call(task, "held_out", lambda: task.held_out(CHECK_BATCH, generator))
    _check_batch(task, held, "held_out", CHECK_BATCH, False)
    _check_scoring(task, batch)


def check_task_plugins(suite: Any) -> None:
    """Check every plugin task of a suite; PluginError names `tasks[j].task`."""
    for j, entry in enumerate(suite.tasks):
        if not is_task_plugin(entry.task):
            continue
        try:
            check_task(entry.task, entry.seq_len, entry.options)
        except PluginError as err:
            field = failing_field("task", str(err), entry.args)
            raise PluginError(f"tasks[{j}].{field}: {entry.task}: {err}") from None


def task_plugin_record(name: str) -> dict[str, Any] | None:
    """Where a plugin task came from and the facts it states, stored with each of its cases; None for a built-in."""
    if not is_task_plugin(name):
        return None
    source, spec = resolve_task(name)[1], task_spec(name)
    record = {key: value for key, value in asdict(source).items() if key != "arch"}
    return {
        "task": name,
        **record,
        "description": spec.description,
        "causal": spec.causal,
        "output_kind": spec.output_kind,
        "future": spec.future,
        "real": spec.real,
    }
