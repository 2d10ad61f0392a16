"""The copy (memory) task as in Arjovsky et al. 2016: recall 10 symbols after a delay of T steps."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task

BLANK, DELIMITER = 0, 9  # categories 1..8 are the symbols to remember
CATEGORIES = 10
RECALL = 10  # symbols to remember
SYMBOLS = 8
SOLVED_FRACTION = 0.99  # share of sequences whose 10 recalled symbols must all be right


class Copy(Task):
    """Inputs (B, T+20, 10) one-hot: 10 symbols ~ U{1..8}, T-1 blanks, the delimiter, 10 blanks.
    Targets (B, T+20) int64: T+10 blanks, then the 10 symbols. Output kind `sequence`.

    Loss: cross-entropy averaged over all T+20 steps, as in the paper, so the memoryless
    baseline (blank everywhere, then uniform over the 8 symbols) scores 10·ln 8 / (T+20).
    Metric: per-symbol accuracy on the 10 recall steps (chance 1/8). Solved: all 10 recalled
    symbols right in at least 99 % of sequences.
    """

    name = "copy"
    follows = "Arjovsky, Shah & Bengio 2016 (ICML), copying memory problem"
    metric_name = "recall_accuracy"
    higher_is_better = True
    input_size = CATEGORIES
    output_size = CATEGORIES

    def __init__(self, seq_len: int) -> None:
        if seq_len < 1:
            raise ValueError(f"copy needs seq_len >= 1 (the delay), got {seq_len}")
        super().__init__(seq_len)

    @property
    def length(self) -> int:
        return self.seq_len + 2 * RECALL

    @property
    def chance(self) -> float:
        return 1 / SYMBOLS

    @property
    def chance_loss(self) -> float:
        return RECALL * math.log(SYMBOLS) / self.length

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on = generator.device
        symbols = torch.randint(1, SYMBOLS + 1, (batch_size, RECALL), generator=generator, device=on)
        sequence = torch.full((batch_size, self.length), BLANK, dtype=torch.long, device=on)
        sequence[:, :RECALL] = symbols
        sequence[:, self.seq_len + RECALL - 1] = DELIMITER
        targets = torch.full_like(sequence, BLANK)
        targets[:, -RECALL:] = symbols
        inputs = F.one_hot(sequence, CATEGORIES).float()
        return Batch(inputs, targets).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.cross_entropy(outputs.reshape(-1, CATEGORIES), batch.targets.reshape(-1))

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        right = outputs[:, -RECALL:].argmax(dim=-1) == batch.targets[:, -RECALL:]
        accuracy = right.float().mean().item()
        all_right = right.all(dim=1).float().mean().item()
        return Evaluation(loss=loss, metric=accuracy, solved=all_right >= SOLVED_FRACTION)
