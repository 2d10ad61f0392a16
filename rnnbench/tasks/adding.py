"""The adding problem as in Arjovsky et al. 2016: sum the two marked values of a long sequence."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task

# rnnbench's own solved rule: Arjovsky et al. 2016 report curves and state no solved threshold, and it is
# looser than Hochreiter & Schmidhuber 1997's stop rules
SOLVED_MSE = 0.01


class Adding(Task):
    """Inputs (B, T, 2): channel 0 values ~ U[0, 1]; channel 1 a marker with exactly two 1s, one
    uniform in [0, T//2) and one uniform in [T//2, 2·(T//2)): two halves of T//2 steps each, as in
    amarshah/complex_RNN's generator, so at odd T the last step is never marked.
    Target (B,): the sum of the two marked values. Loss and metric: MSE.

    Chance: always predicting 1 (the mean of the sum) gives MSE = Var(X1 + X2) = 2/12 = 1/6.
    """

    name = "adding"
    follows = "Arjovsky, Shah & Bengio 2016 (ICML), adding problem, after Le, Jaitly & Hinton 2015"
    metric_name = "mse"
    higher_is_better = False
    input_size = 2
    output_size = 1

    def __init__(self, seq_len: int) -> None:
        if seq_len < 2:
            raise ValueError(f"adding needs seq_len >= 2 (one marker per half), got {seq_len}")
        super().__init__(seq_len)

    @property
    def chance(self) -> float:
        return 1 / 6

    @property
    def chance_loss(self) -> float:
        return 1 / 6

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on, steps, half = generator.device, self.seq_len, self.seq_len // 2
        values = torch.rand(batch_size, steps, generator=generator, device=on)
        first = torch.randint(0, half, (batch_size, 1), generator=generator, device=on)
        # [half, 2·half), not [half, T): at odd T the reference never marks the last step
        second = torch.randint(half, 2 * half, (batch_size, 1), generator=generator, device=on)
        marker = torch.zeros(batch_size, steps, device=on)
        marker.scatter_(1, first, 1.0).scatter_(1, second, 1.0)
        targets = (values * marker).sum(dim=1)
        return Batch(torch.stack([values, marker], dim=-1), targets).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.mse_loss(outputs.reshape(-1), batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        mse = self.loss(outputs, batch).item()
        return Evaluation(loss=mse, metric=mse, solved=mse < SOLVED_MSE)
