"""Character-level language modelling on Python's own standard-library source (`tasks.corpus`).

Each sequence is `seq_len` characters one-hot over the corpus's vocabulary; the target at every
step is the next character. Training windows start anywhere in the train text (uniform offsets);
the held-out windows tile the held-out text without overlap from its start, in order, so every
seed and architecture is scored on the same characters. The metric is bits per character.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task, uniform_int
from rnnbench.tasks.corpus import Corpus, load_corpus

# Solved: held-out bits per character at or below this share of the unigram entropy (the
# memoryless baseline, 4.48 bits on CPython 3.11's corpus). Smoothed n-gram models on the same
# split reach 0.75 of it with 1 character of context, 0.55 with 2 and 0.46 with 3, so 0.40 asks
# for a model that uses more context than a 4-gram table (calibration in docs/real-data.md).
SOLVED_FRACTION = 0.40


@lru_cache(maxsize=4)
def encoded(corpus: Corpus) -> tuple[Tensor, Tensor]:
    """(train, test) as int64 character indices into `corpus.vocabulary`."""
    index = {char: i for i, char in enumerate(corpus.vocabulary)}
    return (
        torch.tensor([index[c] for c in corpus.train], dtype=torch.long),
        torch.tensor([index[c] for c in corpus.test], dtype=torch.long),
    )


def unigram_entropy_from_codes(codes: Tensor, vocab_size: int) -> float:
    """Entropy in bits of the index distribution, counted with bincount (the second way, beside corpus's Counter)."""
    counts = torch.bincount(codes, minlength=vocab_size).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log2()).sum())


class CharLM(Task):
    """Inputs (B, T, V) one-hot characters. Target (B, T) int64: the next character at every step.
    Loss: cross-entropy (nats) averaged over all steps. Metric: bits per character (lower is
    better); chance: the unigram entropy of the corpus; solved at bpc <= SOLVED_FRACTION × it.
    """

    name = "charlm"
    follows = "character-level language modelling (Graves 2013; Karpathy et al. 2015) on CPython's stdlib source"
    metric_name = "bits/char"
    higher_is_better = False

    def __init__(self, seq_len: int) -> None:
        if seq_len < 1:
            raise ValueError(f"charlm needs seq_len >= 1, got {seq_len}")
        super().__init__(seq_len)
        self.corpus = load_corpus()
        self.vocabulary = self.corpus.vocabulary
        self.input_size = self.output_size = len(self.vocabulary)
        self.train_codes, self.test_codes = encoded(self.corpus)
        if len(self.test_codes) <= seq_len:
            raise ValueError(f"charlm seq_len {seq_len} is longer than the held-out text ({len(self.test_codes)})")
        whole = torch.cat([self.train_codes, self.test_codes])
        self._entropy = unigram_entropy_from_codes(whole, self.input_size)
        self._on_device: dict[str, Tensor] = {}

    @property
    def chance(self) -> float:
        return self._entropy

    @property
    def chance_loss(self) -> float:
        return self._entropy * math.log(2)

    @property
    def solved_bpc(self) -> float:
        return SOLVED_FRACTION * self._entropy

    def data_record(self) -> dict[str, object]:
        return {
            "dataset": "charlm: CPython stdlib source",
            "sha256": self.corpus.sha256,
            "python": self.corpus.python,
            "stdlib": self.corpus.stdlib,
            "vocabulary": len(self.vocabulary),
            "n_train": len(self.train_codes),
            "n_test": len(self.test_codes),
        }

    def _windows(self, codes: Tensor, starts: Tensor, device: torch.device | str) -> Batch:
        steps = torch.arange(self.seq_len + 1, device=starts.device)
        chars = codes[starts.unsqueeze(1) + steps]  # (B, T + 1)
        inputs = F.one_hot(chars[:, :-1], self.input_size).float()
        return Batch(inputs, chars[:, 1:]).to(device)

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on = generator.device
        key = str(on)
        if key not in self._on_device:  # once per device: training windows then never cross the bus
            self._on_device[key] = self.train_codes.to(on)
        codes = self._on_device[key]
        starts = uniform_int(0, len(codes) - self.seq_len, (batch_size,), generator)
        return self._windows(codes, starts, device)

    def held_out(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """The first `size` non-overlapping held-out windows (all of them when fewer exist); `generator` is unused."""
        n = min(size, (len(self.test_codes) - 1) // self.seq_len)
        starts = torch.arange(n) * self.seq_len
        return self._windows(self.test_codes, starts, device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.cross_entropy(outputs.reshape(-1, self.output_size), batch.targets.reshape(-1))

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        bpc = loss / math.log(2)
        return Evaluation(loss=loss, metric=bpc, solved=bpc <= self.solved_bpc)
