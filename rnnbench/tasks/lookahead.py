"""The lookahead task, non-causal by construction: at every step, does the current symbol recur in the next k steps?

Symbols are uniform and independent, so the answer at step t depends only on x_t and the k
inputs after it, none of which a unidirectional model has read. Given everything up to step t
the target is 1 with probability p = 1 − (1 − 1/m)^k whatever the past (m symbols, window k),
so no causal model — memoryless or with perfect memory — beats max(p, 1 − p): that is the
chance score, exact for every unidirectional model. A bidirectional model's backward direction
has read x_t ... x_T when it reaches step t and can answer exactly. The last k steps have a
shorter future; they are left out of the targets (scored steps are 0 ... T − k − 1), so p is
the same at every scored step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task

SOLVED_ACCURACY = 0.99


def repeat_probability(symbols: int, window: int) -> float:
    """P(x_t occurs among the next `window` symbols) for uniform independent symbols."""
    return 1.0 - (1.0 - 1.0 / symbols) ** window


class Lookahead(Task):
    """Inputs (B, T, m) one-hot over m symbols, uniform and independent. Targets (B, T − k)
    float: 1.0 when x_t is among x_{t+1} ... x_{t+k}, for the scored steps t = 0 ... T − k − 1.
    Output kind `sequence`: one logit per step, the last k steps unscored. Loss: binary
    cross-entropy on the scored steps. Metric: per-step accuracy (logit > 0 means "repeated");
    chance max(p, 1 − p) with p = 1 − (1 − 1/m)^k (0.5625 at m = 4, k = 2); solved at
    accuracy >= 99 % on held-out sequences.
    """

    name = "lookahead"
    follows = "rnnbench's own non-causal probe (each step's answer lies in the inputs after it)"
    metric_name = "accuracy"
    higher_is_better = True
    output_size = 1

    def __init__(self, seq_len: int, symbols: int = 4, window: int = 2) -> None:
        if symbols < 2 or window < 1:
            raise ValueError(f"lookahead needs symbols >= 2 and window >= 1, got {symbols} and {window}")
        if seq_len <= window:
            raise ValueError(f"lookahead needs seq_len > window ({window}) to score a step, got {seq_len}")
        super().__init__(seq_len)
        self.symbols = symbols
        self.window = window
        self.input_size = symbols

    @property
    def scored(self) -> int:
        """Steps with a full window after them; the targets cover these."""
        return self.seq_len - self.window

    @property
    def p_repeat(self) -> float:
        return repeat_probability(self.symbols, self.window)

    @property
    def chance(self) -> float:
        return max(self.p_repeat, 1.0 - self.p_repeat)

    @property
    def chance_loss(self) -> float:
        """The binary entropy of p: the loss of predicting p at every step, the best a causal model can do."""
        p = torch.tensor(self.p_repeat, dtype=torch.float64)
        return float(-(p * p.log() + (1 - p) * (1 - p).log()))

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on = generator.device
        sequence = torch.randint(0, self.symbols, (batch_size, self.seq_len), generator=generator, device=on)
        head = sequence[:, : self.scored].unsqueeze(-1)  # (B, T - k, 1)
        # (B, T - k, k): the k symbols after each scored step, gathered by offset (a loop over k, not samples)
        ahead = torch.stack([sequence[:, j : j + self.scored] for j in range(1, self.window + 1)], dim=-1)
        targets = (ahead == head).any(dim=-1).float()
        inputs = F.one_hot(sequence, self.symbols).float()
        return Batch(inputs, targets).to(device)

    def _logits(self, outputs: Tensor) -> Tensor:
        return outputs[:, : self.scored].reshape(outputs.shape[0], -1)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.binary_cross_entropy_with_logits(self._logits(outputs), batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        accuracy = ((self._logits(outputs) > 0).float() == batch.targets).float().mean().item()
        return Evaluation(loss=loss, metric=accuracy, solved=accuracy >= SOLVED_ACCURACY)
