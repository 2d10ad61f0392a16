"""Memory that measures the model, in bytes: what one training step keeps, and what one forward allocates.

Training (`training_memory`), counted on any device, on a deep copy of the model: the storages
autograd saves for backward during forward + loss (saved_tensors_hooks; a storage shared by
several tensors counts once; the parameters' own storages are left to `parameters_bytes`), the
parameters, their gradients after backward, and the optimizer's state after its step. Their sum,
`total_bytes`, is the case's training memory; `models.memory_formula` predicts it per kernel path.
`peak_allocated_bytes` is the allocator's view of the same step (measure/allocated.py), kernel
scratch and transient temporaries included.

Inference (`inference_memory`): the parameters plus the peak the forward allocated (eval mode,
`torch.inference_mode`), the outputs and every kernel temporary included.

Both run outside every timer, after a warm-up call, so lazy one-off allocations (oneDNN primitives,
cuBLAS workspaces) are not charged to the model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from rnnbench.measure.allocated import peak_allocated_bytes
from rnnbench.measure.storages import SavedForBackward, storage_bytes, storage_key

OptimizerFactory = Callable[[Iterator[nn.Parameter]], torch.optim.Optimizer]
LossFn = Callable[[torch.Tensor, Any], torch.Tensor]


def training_memory(
    model: nn.Module,
    make_optimizer: OptimizerFactory,
    batch: Any,
    loss_fn: LossFn,
    grad_clip: float | None,
    device: torch.device | str,
) -> dict[str, int | None]:
    """Bytes one training step of a copy of `model` on `batch` keeps, by part, and the allocator's peak during it.

    `make_optimizer(parameters)` builds the case's optimizer; `batch.inputs` feeds the model and
    `loss_fn(outputs, batch)` gives the loss. `model` itself is not changed. Keys:
    saved_for_backward_bytes, parameters_bytes, gradients_bytes, optimizer_state_bytes,
    total_bytes (their sum) and peak_allocated_bytes (None where not observable).
    """
    _counted_step(model, make_optimizer, batch, loss_fn, grad_clip)  # warm-up
    counted: dict[str, int] = {}
    peak = peak_allocated_bytes(
        lambda: counted.update(_counted_step(model, make_optimizer, batch, loss_fn, grad_clip)), device
    )
    return {**counted, "peak_allocated_bytes": peak}


def _counted_step(
    model: nn.Module, make_optimizer: OptimizerFactory, batch: Any, loss_fn: LossFn, grad_clip: float | None
) -> dict[str, int]:
    trained = copy.deepcopy(model)
    trained.train()
    parameters = [p for p in trained.parameters() if p.requires_grad]
    optimizer = make_optimizer(iter(parameters))
    optimizer.zero_grad(set_to_none=True)
    own = frozenset(key for p in trained.parameters() if (key := storage_key(p)) is not None)
    with SavedForBackward(exclude=own) as saved:
        loss = loss_fn(trained(batch.inputs), batch)
    saved_bytes = saved.held_bytes()  # the graph is whole now: this is what backward will read
    loss.backward()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(parameters, grad_clip)
    optimizer.step()
    parts = {
        "saved_for_backward_bytes": saved_bytes,
        "parameters_bytes": storage_bytes(trained.parameters()),
        "gradients_bytes": storage_bytes(p.grad for p in parameters if p.grad is not None),
        "optimizer_state_bytes": storage_bytes(
            value for state in optimizer.state.values() for value in state.values() if isinstance(value, torch.Tensor)
        ),
    }
    return {**parts, "total_bytes": sum(parts.values())}


def inference_memory(model: nn.Module, inputs: torch.Tensor, device: torch.device | str) -> dict[str, int | None]:
    """Bytes one forward of `model` on `inputs` needs, in eval mode under inference_mode.

    Keys: parameters_bytes, peak_allocated_bytes (the most the forward had allocated at once: its
    activations, outputs and kernel temporaries; None where not observable) and total_bytes (their
    sum, None with it). `model` is left in the mode it was in.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(inputs)  # warm-up
            peak = peak_allocated_bytes(lambda: model(inputs), device)
    finally:
        model.train(was_training)
    parameters = storage_bytes(model.parameters())
    return {
        "parameters_bytes": parameters,
        "peak_allocated_bytes": peak,
        "total_bytes": None if peak is None else parameters + peak,
    }
