"""A case's memory block: its model's training memory on its batch, and inference memory per batch size."""

from __future__ import annotations

import torch
from torch import nn

from rnnbench.measure.memory import inference_memory, training_memory
from rnnbench.results.records import MemoryJson
from rnnbench.run.build import timing_generator
from rnnbench.run.train import make_optimizer
from rnnbench.suite.schema import Case


def case_memory(case: Case, task, model: nn.Module, device: torch.device) -> MemoryJson:
    """The record's `memory` block, measured outside every timer; `model` as timed (dtype wrapper included).

    The batch and inference inputs are drawn as the timing draws them (same generator and order), so a
    task whose inputs vary in length (packed) is measured on the sequences that were timed.
    """
    s = case.settings
    generator = timing_generator(case)
    batch = task.sample(s.batch_size, generator, device)
    training = training_memory(
        model,
        lambda parameters: make_optimizer(s.optimizer.name, parameters, s.optimizer.lr),
        batch,
        task.loss,
        s.grad_clip,
        device,
    )
    inference = {
        f"b{size}": inference_memory(model, task.sample(size, generator, device).inputs, device)
        for size in s.inference.batch_sizes
    }
    return MemoryJson(training=training, inference=inference)
