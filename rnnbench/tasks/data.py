"""Training and held-out batch streams for a task: infinite or from a finite pool, seeded, on the device.

Each (seed, stream) pair gets its own generator seed through numpy's `SeedSequence`, so the
training stream, the finite pool, the pool's shuffling and the held-out set never share random
numbers for the same run seed. Generators live on the run's device: a CUDA run samples on the
GPU (the same seed then gives other data than on the CPU; within one device it is reproducible).
Held-out means drawn from an independent stream: when a task's input space is tiny (parity at
T=8 has 256 strings) the same strings necessarily occur in both.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from rnnbench.tasks.base import Batch, Task

# Stream ids: mixed into the run seed, so streams differ even when run seeds are consecutive.
TRAIN_STREAM, POOL_STREAM, SHUFFLE_STREAM, EVAL_STREAM = 0, 1, 2, 3


def stream_generator(seed: int, stream: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator on `device` seeded from (seed, stream)."""
    state = np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0]
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(int(state) & ((1 << 63) - 1))
    return generator


def train_batches(
    task: Task, batch_size: int, seed: int, device: torch.device | str = "cpu", train_size: int | None = None
) -> Iterator[Batch]:
    """Endless training batches. With `train_size`, batches come from a fixed pool of that many
    sequences, generated once and kept on the device, visited in reshuffled epochs."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if train_size is None:
        generator = stream_generator(seed, TRAIN_STREAM, device)
        while True:
            yield task.sample(batch_size, generator, device)
    if train_size < 1:
        raise ValueError(f"train_size must be >= 1, got {train_size}")
    pool = task.pool(train_size, stream_generator(seed, POOL_STREAM, device), device)
    yield from _pool_batches(pool, batch_size, stream_generator(seed, SHUFFLE_STREAM, device))


def _pool_batches(pool: Batch, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
    device = generator.device
    order = torch.empty(0, dtype=torch.long, device=device)
    while True:
        while order.numel() < batch_size:  # a batch larger than the pool spans several epochs
            order = torch.cat([order, torch.randperm(len(pool), generator=generator, device=device)])
        index, order = order[:batch_size], order[batch_size:]
        yield pool.select(index.to(pool.inputs.device))


def eval_batch(task: Task, size: int, seed: int, device: torch.device | str = "cpu") -> Batch:
    """The held-out set of a run: `size` sequences from the evaluation stream of `seed` (a fixed
    data set's held-out split instead, the same for every seed)."""
    return task.held_out(size, stream_generator(seed, EVAL_STREAM, device), device)
