"""The parity (multi-bit XOR) task: after reading a bit string, output the parity of its 1s.

Bits enter as -1 (bit 0) and +1 (bit 1), so that padding (0) is not a bit. With
`variable_length`, lengths are uniform in [1, T] and strings are LEFT-padded with zeros to T,
so the last step is always the last real bit; `Batch.lengths` holds the true lengths.

Fixed-length parity is hard for gradient descent: no subset of fewer than T bits correlates
with the target, and a plain LSTM (hidden 32, Adam 0.01) stays at chance for 4000 steps already
at T = 4. With variable lengths the short strings give the gradient a path, and an LSTM solves
T = 8 in a few hundred steps.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task, left_pad_mask, uniform_int

SOLVED_ACCURACY = 0.99


class Parity(Task):
    """Inputs (B, T, 1): bits as ±1, zero padding on the left when lengths vary. Target (B,)
    float: 1.0 when the number of 1-bits is odd. Loss: binary cross-entropy on the logit.
    Metric: accuracy (logit > 0 means odd); chance 1/2 (the parity of uniform bits is a fair
    coin whatever the length); solved at accuracy >= 99 % on held-out strings.
    """

    name = "parity"
    follows = "the classic parity (multi-bit XOR) problem, as in Minsky & Papert 1969"
    metric_name = "accuracy"
    higher_is_better = True
    input_size = 1
    output_size = 1

    def __init__(self, seq_len: int, variable_length: bool = False) -> None:
        if seq_len < 1:
            raise ValueError(f"parity needs seq_len >= 1, got {seq_len}")
        super().__init__(seq_len)
        self.variable_length = variable_length

    @property
    def left_padded(self) -> bool:
        return self.variable_length

    @property
    def chance(self) -> float:
        return 0.5

    @property
    def chance_loss(self) -> float:
        return math.log(2)

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on, steps = generator.device, self.seq_len
        bits = torch.randint(0, 2, (batch_size, steps), generator=generator, device=on)
        lengths = None
        real = torch.ones(batch_size, steps, dtype=torch.bool, device=on)
        if self.variable_length:
            lengths = uniform_int(1, steps + 1, (batch_size,), generator)
            real = left_pad_mask(lengths, steps)
        bits = bits * real
        targets = (bits.sum(dim=1) % 2).float()
        inputs = ((2 * bits - 1) * real).float().unsqueeze(-1)
        return Batch(inputs, targets, lengths).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.binary_cross_entropy_with_logits(outputs.reshape(-1), batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        accuracy = ((outputs.reshape(-1) > 0).float() == batch.targets).float().mean().item()
        return Evaluation(loss=loss, metric=accuracy, solved=accuracy >= SOLVED_ACCURACY)
