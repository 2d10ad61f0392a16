"""The adding problem as in Hochreiter & Schmidhuber 1997 (experiment 4): variable length, values in [-1, 1].

Lengths are uniform in [T, T + T//10]. Every sequence is LEFT-padded with zero pairs to
T + T//10 steps, so the last time step is always the real last pair (models read out the last
step) and every batch has the same shape; `Batch.lengths` holds the true lengths. A padding
pair (0, 0) is told apart from the real start, whose marker is -1 (or 1 when it is marked).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task, left_pad_mask, uniform_int

TOLERANCE = 0.04  # a sequence counts correct when the absolute error is below this (the paper's criterion)
SOLVED_FRACTION = 0.99


class Adding1997(Task):
    """Inputs (B, T + T//10, 2): pairs (value ~ U[-1, 1], marker in {-1, 0, 1}). One of the first
    ten pairs is marked (X1; among the first T-1 when T < 11, so the last pair stays unmarked),
    then one of the first T//2 - 1 still unmarked pairs (X2). The first and last pairs have marker
    -1 unless marked; when the first pair is marked its value is set to 0, as in the paper.
    Target (B,): 0.5 + (X1 + X2) / 4 in [0, 1], read at the end. Loss: MSE.

    Metric: the fraction of sequences with absolute error < 0.04 (the paper's "correct");
    solved when at least 99 % are correct (the paper stops training at mean error < 0.01 and
    2000 correct sequences in a row). Chance: always predicting 0.5, in closed form below; the
    zeroed first pair (probability 1/10 for X1) makes the chance MSE a little under 1/24.
    """

    name = "adding1997"
    follows = "Hochreiter & Schmidhuber 1997 (Neural Computation), experiment 4, adding problem"
    metric_name = "accuracy"
    higher_is_better = True
    input_size = 2
    output_size = 1

    def __init__(self, seq_len: int) -> None:
        if seq_len < 4:
            raise ValueError(f"adding1997 needs seq_len >= 4 (X2 among the first T/2 - 1 pairs), got {seq_len}")
        super().__init__(seq_len)

    @property
    def max_len(self) -> int:
        return self.seq_len + self.seq_len // 10

    @property
    def _first_choices(self) -> int:
        return min(10, self.seq_len - 1)

    @property
    def _second_choices(self) -> int:
        return self.seq_len // 2 - 1

    @property
    def _p_zeroed(self) -> float:
        """Probability that one marked value is the zeroed first pair."""
        p_first = 1 / self._first_choices
        return p_first + (1 - p_first) / self._second_choices

    @property
    def left_padded(self) -> bool:
        return True

    @property
    def chance(self) -> float:
        # |0.5 - target| < tol  <=>  |X1 + X2| < 4·tol = a. For two U[-1,1] values the sum has a
        # triangular density (2 - |s|)/4, so P = a - a²/4; with one value zeroed, P = a.
        a = 4 * TOLERANCE
        return (1 - self._p_zeroed) * (a - a * a / 4) + self._p_zeroed * a

    @property
    def chance_loss(self) -> float:
        # E[((X1 + X2)/4)²] = (E X1² + E X2²)/16 with E X² = 1/3 unless zeroed.
        return (2 - self._p_zeroed) / 48

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on, size, max_len = generator.device, batch_size, self.max_len
        lengths = uniform_int(self.seq_len, max_len + 1, (size,), generator)
        start = (max_len - lengths).unsqueeze(1)  # index of each real first pair
        values = torch.rand(size, max_len, generator=generator, device=on) * 2 - 1
        first = torch.randint(0, self._first_choices, (size, 1), generator=generator, device=on)
        rank = torch.randint(0, self._second_choices, (size, 1), generator=generator, device=on)
        second = rank + (rank >= first).long()  # the rank-th pair among those still unmarked
        real = left_pad_mask(lengths, max_len)
        marker = torch.zeros(size, max_len, device=on)
        marker.scatter_(1, start, -1.0)
        marker[:, -1] = -1.0
        marker.scatter_(1, start + first, 1.0).scatter_(1, start + second, 1.0)
        first_marked = (first == 0) | (second == 0)
        values.scatter_(1, start, torch.where(first_marked, 0.0, values.gather(1, start)))
        values = values * real
        marked_sum = (values * (marker == 1)).sum(dim=1)
        targets = 0.5 + marked_sum / 4
        return Batch(torch.stack([values, marker], dim=-1), targets, lengths).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.mse_loss(outputs.reshape(-1), batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        correct = ((outputs.reshape(-1) - batch.targets).abs() < TOLERANCE).float().mean().item()
        return Evaluation(loss=loss, metric=correct, solved=correct >= SOLVED_FRACTION)
