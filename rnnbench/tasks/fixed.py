"""Tasks over a fixed data set: batches drawn from a train split, scored on a fixed held-out split.

A synthetic task makes a fresh sequence for every draw; a real data set has a finite number of
examples, split once (seeded, independent of the run seed) into train and held-out parts. Here
`sample` draws a batch of distinct train examples with the given generator, so the infinite
stream, the `train_size` pool (a random subset of the train split) and the timing batches all
come from the train split, and `held_out` returns the first `size` held-out examples in their
fixed order: every seed and architecture is scored on the same examples.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnbench.tasks.base import Batch, Task


class FixedDataTask(Task):
    """A task whose examples are tensors split once into train and held-out parts.

    A subclass sets `train_inputs`, `train_targets`, `test_inputs` and `test_targets` (CPU
    tensors, examples along dimension 0); copies on other devices are made once and kept.
    """

    train_inputs: Tensor
    train_targets: Tensor
    test_inputs: Tensor
    test_targets: Tensor

    def __init__(self, seq_len: int) -> None:
        super().__init__(seq_len)
        self._on_device: dict[str, tuple[Tensor, Tensor]] = {}

    @property
    def n_train(self) -> int:
        return self.train_inputs.shape[0]

    @property
    def n_test(self) -> int:
        return self.test_inputs.shape[0]

    def _train_on(self, device: torch.device) -> tuple[Tensor, Tensor]:
        key = str(device)
        if key not in self._on_device:  # once per device: training batches then never cross the bus
            self._on_device[key] = (self.train_inputs.to(device), self.train_targets.to(device))
        return self._on_device[key]

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        if batch_size > self.n_train:
            raise ValueError(
                f"{self.name}: {batch_size} examples asked for, the train split holds {self.n_train} "
                "(lower train_size or batch_size)"
            )
        inputs, targets = self._train_on(generator.device)
        index = torch.randperm(self.n_train, generator=generator, device=generator.device)[:batch_size]
        return Batch(inputs[index], targets[index]).to(device)

    def held_out(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """The first `size` held-out examples (all of them when `size` is larger); `generator` is unused."""
        n = min(size, self.n_test)
        return Batch(self.test_inputs[:n], self.test_targets[:n]).to(device)
