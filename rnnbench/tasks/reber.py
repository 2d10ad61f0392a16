"""Next-symbol prediction in the embedded Reber grammar (Hochreiter & Schmidhuber 1997, experiment 1).

A string is B, T|P, a Reber string (B ... E), the same T|P, E. Every choice point is a fair
coin. Strings longer than `seq_len` are rejected and redrawn (the distribution is the
grammar's, conditioned on length <= seq_len; the shortest string has 9 symbols). The rejected
strings are the long ones, whose two T|P lie farthest apart, so a suite should pick a seq_len
that rejects few: `exact_length_tail` gives the fraction (2.8 % at 20, under 0.5 % from 26;
`benchmarks/reber_lengths.py` prints the table).

Padding and masking: strings are RIGHT-padded with zero vectors to `seq_len`. The output is
one prediction per step and the task is causal (no bidirectional model), so with right padding a
model's outputs on the real steps are exactly those on the unpadded string. The target at
step t is the multi-hot set of legal symbols at step t + 1; it is all-zero on the final E and on
padding, and those steps are masked out of the loss and the metric. `Batch.lengths` holds
the true string lengths.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task

ALPHABET = "BTPSXVE"
B, T, P, S, X, V, E = range(7)
SHORTEST = 9  # B T B T X S E T E
SOLVED_FRACTION = 0.99

# The Reber automaton. State 1 follows the inner B; from each of states 1-5 a fair coin picks
# one of two edges (symbol, next state); state 6 emits E and moves to 7, the end.
EDGES = {
    1: ((T, 2), (P, 3)),
    2: ((S, 2), (X, 4)),
    3: ((T, 3), (V, 5)),
    4: ((X, 3), (S, 6)),
    5: ((P, 4), (V, 6)),
}
END, DONE = 6, 7


def _tables(device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Edge symbol (8, 2), edge target (8, 2) and legal next symbols (8, 7) per state."""
    symbol = torch.full((8, 2), E, dtype=torch.long)
    target = torch.full((8, 2), DONE, dtype=torch.long)
    legal = torch.zeros(8, len(ALPHABET))
    for state, edges in EDGES.items():
        for coin, (sym, nxt) in enumerate(edges):
            symbol[state, coin], target[state, coin] = sym, nxt
            legal[state, sym] = 1.0
    legal[END, E] = 1.0
    return symbol.to(device), target.to(device), legal.to(device)


class Reber(Task):
    """Inputs (B, seq_len, 7) one-hot over B, T, P, S, X, V, E, right-padded with zeros. Targets
    (B, seq_len, 7) float multi-hot: the legal next symbols. Loss: binary cross-entropy per
    output unit on the predicted steps. A string counts correct when, at every predicted step,
    the k legal symbols get the k highest outputs (every legal output above every illegal one).
    Metric: the fraction of correct strings; solved at >= 99 %.

    Chance 1/2: the only step a grammar-following predictor cannot get without long-term memory
    is after the inner E, where the answer is the T|P of step 2 (a fair coin). A strictly
    memoryless predictor does much worse; 1/2 is the baseline that matters for long memory.
    """

    name = "reber"
    follows = "embedded Reber grammar, Hochreiter & Schmidhuber 1997 (Neural Computation), experiment 1"
    metric_name = "string_accuracy"
    higher_is_better = True
    padding_side = "right"
    input_size = len(ALPHABET)
    output_size = len(ALPHABET)

    def __init__(self, seq_len: int) -> None:
        if seq_len < SHORTEST:
            raise ValueError(f"reber needs seq_len >= {SHORTEST} (the shortest embedded string), got {seq_len}")
        super().__init__(seq_len)

    @property
    def chance(self) -> float:
        return 0.5

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        kept: list[Tensor] = []
        kept_targets: list[Tensor] = []
        have = 0
        while have < batch_size:  # rounds of rejection sampling, each vectorized
            draw = max(2 * (batch_size - have), 16)
            strings, targets, accepted = self._draw(draw, generator)
            kept.append(strings[accepted])
            kept_targets.append(targets[accepted])
            have += kept[-1].shape[0]
        strings = torch.cat(kept)[:batch_size]
        targets = torch.cat(kept_targets)[:batch_size]
        lengths = (strings >= 0).sum(dim=1)
        inputs = F.one_hot(strings.clamp(min=0), len(ALPHABET)).float() * (strings >= 0).unsqueeze(-1)
        return Batch(inputs, targets, lengths).to(device)

    def _draw(self, count: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """`count` candidate strings (symbol ids, -1 = padding), their targets, and which fit."""
        on = generator.device
        symbol_of, target_of, legal_of = _tables(on)
        inner_len = self.seq_len - 4  # room left for B, T|P before and T|P, E after
        inner = torch.full((count, inner_len), -1, dtype=torch.long, device=on)
        legal = torch.zeros(count, inner_len, len(ALPHABET), device=on)
        inner[:, 0] = B
        state = torch.ones(count, dtype=torch.long, device=on)
        legal[:, 0] = legal_of[1]
        for step in range(1, inner_len):  # a loop over time, vectorized over strings
            coin = torch.randint(0, 2, (count,), generator=generator, device=on)
            emitted = symbol_of[state, coin]
            inner[:, step] = torch.where(state == DONE, -1, emitted)
            state = torch.where(state == DONE, DONE, target_of[state, coin])
            legal[:, step] = legal_of[state]  # all-zero once done
            if step % 8 == 0 and bool((state == DONE).all()):  # strings average 12 symbols; seq_len may be far longer
                break
        accepted = state == DONE
        outer = torch.where(torch.rand(count, generator=generator, device=on) < 0.5, T, P)
        used = (inner >= 0).sum(dim=1)  # inner string length, E included

        strings = torch.full((count, self.seq_len), -1, dtype=torch.long, device=on)
        strings[:, 0], strings[:, 1] = B, outer
        strings[:, 2 : 2 + inner_len] = inner
        rows = torch.arange(count, device=on)
        closing = (2 + used).clamp(max=self.seq_len - 2)  # clamped only for rejected strings
        strings[rows, closing] = outer
        strings[rows, closing + 1] = E

        targets = torch.zeros(count, self.seq_len, len(ALPHABET), device=on)
        targets[:, 0, T] = targets[:, 0, P] = 1.0
        targets[:, 1, B] = 1.0
        targets[:, 2 : 2 + inner_len] = legal
        targets[rows, closing - 1] = F.one_hot(outer, len(ALPHABET)).float()  # after the inner E
        targets[rows, closing] = F.one_hot(torch.full_like(outer, E), len(ALPHABET)).float()
        targets[rows, closing + 1] = 0.0  # after the final E nothing is predicted
        return strings, targets, accepted

    @staticmethod
    def _mask(batch: Batch) -> Tensor:
        return batch.targets.sum(dim=-1) > 0  # (B, T): steps with a prediction

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        mask = self._mask(batch)
        return F.binary_cross_entropy_with_logits(outputs[mask], batch.targets[mask])

    def correct_strings(self, outputs: Tensor, batch: Batch) -> Tensor:
        """(B,) bool: at every predicted step every legal output exceeds every illegal one."""
        legal = batch.targets > 0
        lowest_legal = outputs.masked_fill(~legal, float("inf")).amin(dim=-1)
        highest_illegal = outputs.masked_fill(legal, float("-inf")).amax(dim=-1)
        step_ok = (lowest_legal > highest_illegal) | ~self._mask(batch)
        return step_ok.all(dim=1)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        fraction = self.correct_strings(outputs, batch).float().mean().item()
        return Evaluation(loss=loss, metric=fraction, solved=fraction >= SOLVED_FRACTION)


def exact_length_tail(seq_len: int) -> float:
    """The fraction of embedded Reber strings longer than `seq_len` (the ones `Reber.sample` rejects), exactly.

    A string has 6 symbols besides the inner edges (B, T|P, inner B, inner E, T|P, E), so it is
    longer than `seq_len` when the inner walk takes more than seq_len - 6 edges to reach END.
    """
    mass = {state: 0.0 for state in range(1, DONE)}
    mass[1] = 1.0
    for _ in range(max(seq_len - 6, 0)):
        step = {state: 0.0 for state in range(1, DONE)}
        step[END] = mass[END]  # absorbed: the walk is over
        for state, edges in EDGES.items():
            for _sym, nxt in edges:
                step[nxt] += mass[state] / 2
        mass = step
    return 1.0 - mass[END]


def sampled_lengths(count: int, generator: torch.Generator, chunk: int = 5000) -> Tensor:
    """(count,) lengths of embedded Reber strings from `Reber`'s own generator, without the length cap."""
    task = Reber(seq_len=200)  # rejects under 1e-15 of strings (exact_length_tail(200)): none in practice
    lengths = []
    for start in range(0, count, chunk):
        strings, _, accepted = task._draw(min(chunk, count - start), generator)
        lengths.append((strings[accepted] >= 0).sum(dim=1))
    return torch.cat(lengths)


def to_text(batch: Batch) -> list[str]:
    """The strings of a batch as text, e.g. 'BTBPVVETE' (for tests and debugging)."""
    assert batch.lengths is not None, "Reber strings vary in length"
    ids = batch.inputs.argmax(dim=-1).tolist()
    return ["".join(ALPHABET[i] for i in row[:length]) for row, length in zip(ids, batch.lengths.tolist())]
