"""A case's model (seed weights, plugin or built-in), its dtype wrapper, and the generator its timed inputs come from."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from rnnbench.measure.backend import autocast_context
from rnnbench.models.matching import match_case
from rnnbench.models.plugins import PluginModel
from rnnbench.models.registry import MODELS, Recurrent
from rnnbench.suite.arch import is_plugin
from rnnbench.suite.schema import Case
from rnnbench.tasks.base import Batch, Task

# The timed (and memory-counted) inputs come from a generator seeded apart from the training data's.
TIMING_SEED_OFFSET = 10_000


def timing_generator(case: Case) -> torch.Generator:
    """The generator a case's timed batch and inference inputs are drawn from, in that order (timing and memory alike)."""
    return torch.Generator().manual_seed(TIMING_SEED_OFFSET + case.seed)


class Autocast(nn.Module):
    """Runs the wrapped model's forward under autocast, so timers and the trainer need not know the dtype."""

    def __init__(self, inner: nn.Module, device: torch.device, dtype: str) -> None:
        super().__init__()
        self.inner, self.device, self.dtype = inner, device, dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with autocast_context(self.device, self.dtype):
            return self.inner(x).float()


def with_dtype(model: nn.Module, device: torch.device, dtype: str) -> nn.Module:
    """`model` as timed: itself in float32, else wrapped to run under autocast in `dtype`."""
    return model if dtype == "float32" else Autocast(model, device, dtype)


def autocast_for(device: torch.device, dtype: str) -> Callable[[], AbstractContextManager]:
    """A factory of the context a training step runs in: autocast to `dtype`, or nothing in float32."""
    if dtype == "float32":
        return nullcontext
    return lambda: autocast_context(device, dtype)


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
            args=case.model_args,
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
        variant=s.variant,
        chrono_tmax=s.chrono_tmax or case.seq_len,  # chrono's T_max: the task's length unless the suite says
    )
    return model.to(device)


@dataclass
class Prepared:
    """A representative's model (seed weights, dtype wrapper), optimizer, fixed train batch and inference inputs."""

    case: Case
    task: Task
    model: nn.Module
    optimizer: torch.optim.Optimizer
    batch: Batch
    inputs: dict[int, torch.Tensor]  # by inference batch size
