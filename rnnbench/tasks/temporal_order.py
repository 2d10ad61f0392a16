"""The temporal order problem of Hochreiter & Schmidhuber 1997 (experiments 6a and 6b).

Lengths are uniform in [T, T + T//10] (the paper's 100-110 at T = 100) and every sequence is
LEFT-padded with zero vectors to T + T//10 steps, so the final step is always the trigger B;
`Batch.lengths` holds the true lengths. The relevant positions scale with T: at T = 100 they
are the paper's t1 in [10, 20], t2 in [50, 60] (6a) or t1 in [10, 20], t2 in [33, 43],
t3 in [66, 76] (6b), counted from 1 at the start symbol E.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task, left_pad_mask, uniform_int

SYMBOLS = ("a", "b", "c", "d", "B", "E", "X", "Y")  # one-hot order; a-d are distractors
DISTRACTORS, TRIGGER, START, X = 4, 4, 5, 6
WINDOWS = {  # paper positions at T = 100, 1-based from E, inclusive
    2: ((10, 20), (50, 60)),
    3: ((10, 20), (33, 43), (66, 76)),
}
SOLVED_ACCURACY = 0.99


def key_windows(seq_len: int, symbols: int) -> list[tuple[int, int]]:
    """The 1-based inclusive position windows of the key symbols at length T, in order, disjoint."""
    windows, previous_high = [], 1  # position 1 is E
    for low, high in WINDOWS[symbols]:
        low_t = max((low * seq_len + 50) // 100, previous_high + 1)  # round half up, after the previous window
        high_t = max((high * seq_len + 50) // 100, low_t)
        windows.append((low_t, high_t))
        previous_high = high_t
    if previous_high > seq_len - 1:  # the last position of the shortest sequence is the trigger
        raise ValueError(f"temporal_order with {symbols} symbols needs a longer seq_len than {seq_len}")
    return windows


class TemporalOrder(Task):
    """Inputs (B, T + T//10, 8) one-hot over a, b, c, d, B, E, X, Y: E first, B last, distractors
    a-d elsewhere except `symbols` key positions holding X or Y. Target (B,) int64: the class
    of the key sequence (XX, XY, YX, YY = 0..3 for 6a; XXX .. YYY = 0..7 for 6b), read at the end.
    Loss: cross-entropy. Metric: accuracy; chance 1/4 (1/8); solved at accuracy >= 99 %.
    """

    name = "temporal_order"
    follows = "Hochreiter & Schmidhuber 1997 (Neural Computation), experiment 6a (6b with symbols: 3)"
    metric_name = "accuracy"
    higher_is_better = True
    input_size = len(SYMBOLS)

    def __init__(self, seq_len: int, symbols: int = 2) -> None:
        if symbols not in WINDOWS:
            raise ValueError(f"temporal_order symbols must be 2 or 3, got {symbols}")
        super().__init__(seq_len)
        self.symbols = symbols
        self.windows = key_windows(seq_len, symbols)
        self.output_size = 2**symbols

    @property
    def max_len(self) -> int:
        return self.seq_len + self.seq_len // 10

    @property
    def left_padded(self) -> bool:
        return True

    @property
    def chance(self) -> float:
        return 1 / self.output_size

    @property
    def chance_loss(self) -> float:
        return math.log(self.output_size)

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on, max_len = generator.device, self.max_len
        lengths = uniform_int(self.seq_len, max_len + 1, (batch_size,), generator)
        start = (max_len - lengths).unsqueeze(1)
        sequence = torch.randint(0, DISTRACTORS, (batch_size, max_len), generator=generator, device=on)
        sequence.scatter_(1, start, START)
        sequence[:, -1] = TRIGGER
        keys = torch.randint(0, 2, (batch_size, self.symbols), generator=generator, device=on)
        for j, (low, high) in enumerate(self.windows):  # a loop over key symbols, not samples
            position = uniform_int(low - 1, high, (batch_size, 1), generator)  # 0-based from E
            sequence.scatter_(1, start + position, X + keys[:, j : j + 1])
        weights = 2 ** torch.arange(self.symbols - 1, -1, -1, device=on)
        targets = (keys * weights).sum(dim=1)  # X = 0, Y = 1, first key the most significant bit
        inputs = F.one_hot(sequence, len(SYMBOLS)).float() * left_pad_mask(lengths, max_len).unsqueeze(-1)
        return Batch(inputs, targets, lengths).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.cross_entropy(outputs, batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        accuracy = (outputs.argmax(dim=-1) == batch.targets).float().mean().item()
        return Evaluation(loss=loss, metric=accuracy, solved=accuracy >= SOLVED_ACCURACY)
