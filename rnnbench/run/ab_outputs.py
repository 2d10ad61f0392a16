"""The worker's side of `rnnbench ab`'s numerics check: a model's weights and inputs saved or loaded, its outputs and loss.

The base side saves each model's current weights and a fixed batch; the new side loads exactly those,
so a torch whose initialisation differs can neither hide nor fake a change. Each side runs a copy of
the model (float32, eval mode, no grad): the timed model keeps its weights and mode.
"""

from __future__ import annotations

import copy
import os

import torch
from torch import nn

from rnnbench.results.ab_protocol import ModelOutputs
from rnnbench.run.build import Autocast, Prepared
from rnnbench.tasks.base import Batch, Task

FILE_FORMAT = 1  # bumped when the saved record changes shape


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())[:300]


def _float32_copy(model: nn.Module) -> nn.Module:
    """The model without its autocast wrapper (its weights are float32 already), copied."""
    inner = model.inner if isinstance(model, Autocast) else model
    return copy.deepcopy(inner).eval()


def _run(model: nn.Module, task: Task, batch: Batch) -> ModelOutputs:
    with torch.inference_mode():
        out = model(batch.inputs)
        loss = task.loss(out, batch)
    # floats in JSON round-trip exactly: the orchestrator compares the very float32 values
    return ModelOutputs(shape=list(out.shape), values=out.float().flatten().tolist(), loss=float(loss))


def _head(batch: Batch, n: int) -> Batch:
    lengths = None if batch.lengths is None else batch.lengths[:n]
    return Batch(batch.inputs[:n], batch.targets[:n], lengths)


def save_and_run(prepared: dict[str, Prepared], folder: str, max_batch: int) -> dict[str, ModelOutputs]:
    """Per entry: its weights and first `max_batch` sequences saved under `folder`, and its outputs there."""
    out: dict[str, ModelOutputs] = {}
    for index, (name, p) in enumerate(prepared.items()):
        try:
            model, batch = _float32_copy(p.model), _head(p.batch, max_batch)
            path = os.path.join(folder, f"model{index}.pt")
            record = {
                "format": FILE_FORMAT,
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "inputs": batch.inputs.cpu(),
                "targets": batch.targets.cpu(),
                "lengths": None if batch.lengths is None else batch.lengths.cpu(),
            }
            torch.save(record, path)
            out[name] = {"file": path, **_run(model, p.task, batch)}
        except Exception as err:  # one model's failure is that model's verdict, not the run's
            out[name] = {"error": _one_line(err)}
    return out


def load_and_run(prepared: dict[str, Prepared], files: dict[str, str]) -> dict[str, ModelOutputs]:
    """Per entry: the base's weights and batch loaded into a copy of this side's model, and its outputs."""
    out: dict[str, ModelOutputs] = {}
    for name, path in files.items():
        p = prepared.get(name)
        if p is None:
            out[name] = {"error": "no such model on this side"}
            continue
        try:
            device = p.batch.inputs.device
            record = torch.load(path, map_location=device, weights_only=True)
            if record.get("format") != FILE_FORMAT:
                raise ValueError(f"saved in format {record.get('format')!r}, this side reads {FILE_FORMAT}")
        except Exception as err:
            out[name] = {"error": f"cannot read the base's file: {_one_line(err)}"}
            continue
        try:
            model = _float32_copy(p.model)
            model.load_state_dict(record["state_dict"])  # strict: a renamed or resized parameter is refused
        except Exception as err:
            out[name] = {"error": f"cannot load the base's weights: {_one_line(err)}"}
            continue
        try:
            batch = Batch(record["inputs"], record["targets"], record["lengths"])
            out[name] = _run(model, p.task, batch)
        except Exception as err:
            out[name] = {"error": f"forward on the base's weights raised {_one_line(err)}"}
    return out
