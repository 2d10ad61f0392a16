"""`task: text`: classify the user's labelled texts, read token by token (characters or words), the label at the end.

The data logic is `tasks.text_data` (torch-free). Token ids are kept as one (texts, seq_len) int32
array; a batch is one-hot encoded when drawn (the padding id 0 becomes an all-zero step, so every
real sequence starts with a step that is not zero and packing reads the lengths off the padding).
Texts are left-padded like the built-in variable-length tasks, so `packed: true` applies.

Metric: accuracy on the test split (the first `eval_size` of its shuffled rows); macro-F1 beside it.
Chance: the test share of the train split's majority class. Solved at `solved_accuracy`, by
default half way from chance to 1. Not causal: bidirectional models are allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.catalog import TextOptions
from rnnbench.tasks import text_data as td
from rnnbench.tasks.base import Batch, Evaluation, Task
from rnnbench.tasks.tables import TEXT_FORMATS, FileIdentity, checked_path, file_identity


@dataclass(frozen=True)
class TextData:
    """A file made ready for batches: token ids per split, and what the results and `validate` report."""

    parts: dict[str, np.ndarray]  # row indices of each split
    vocabulary: list[str]
    labels: list[str]
    counts: dict[str, dict[str, int]]
    file: FileIdentity
    rows: int
    truncated: int
    split: dict[str, tuple[Tensor, Tensor, Tensor]]  # split -> (ids (n, seq_len) int32, lengths, label ids)
    majority: int  # the train split's most frequent label
    chance: float
    chance_loss: float


@lru_cache(maxsize=2)
def prepare(options_json: str, seq_len: int, size: int, mtime_ns: int) -> TextData:
    """Read, split, count the vocabulary and encode once per process and file version (every case builds its task)."""
    o = TextOptions.model_validate_json(options_json)
    data = td.read_texts(o.path, o.text, o.label)
    parts = td.stratified_split(o.path, data, o.split, o.split_seed)
    vocabulary = td.build_vocabulary([data.texts[i] for i in parts["train"]], o.tokens, o.min_count, o.max_vocab)
    ids, lengths, truncated = td.encode(data.texts, vocabulary, o.tokens, seq_len)
    split = {
        name: (torch.from_numpy(ids[rows]), torch.from_numpy(lengths[rows]), torch.from_numpy(data.labels[rows]))
        for name, rows in parts.items()
    }
    train_counts = np.bincount(data.labels[parts["train"]], minlength=len(data.names))
    majority = int(train_counts.argmax())
    test_labels = data.labels[parts["test"]]
    chance_loss = float(-np.mean(np.log(train_counts / train_counts.sum())[test_labels]))
    counts = td.class_counts(data, parts)
    identity = file_identity(Path(o.path))
    chance = float(np.mean(test_labels == majority))
    return TextData(
        parts,
        vocabulary,
        data.names,
        counts,
        identity,
        len(data.texts),
        truncated,
        split,
        majority,
        chance,
        chance_loss,
    )


class Text(Task):
    """Inputs (B, seq_len, vocabulary) one-hot, left-padded with zero steps. Target (B,) int64 label id.
    Loss: cross-entropy. Metric: accuracy (higher is better); `final.metrics.macro_f1` beside it."""

    name = "text"
    follows = "text classification with recurrent networks, the lecture's Bi-LSTM use case"
    metric_name = "accuracy"
    higher_is_better = True

    def __init__(
        self,
        seq_len: int,
        path: str,
        text: str,
        label: str,
        tokens: str = "char",
        min_count: int = 1,
        max_vocab: int = 1000,
        split: list[float] | None = None,
        split_seed: int = 0,
        solved_accuracy: float | None = None,
    ) -> None:
        if seq_len < 1:
            raise ValueError(f"text needs seq_len >= 1, got {seq_len}")
        super().__init__(seq_len)
        self.options = TextOptions(
            path=path,
            text=text,
            label=label,
            tokens=tokens,
            min_count=min_count,
            max_vocab=max_vocab,
            split_seed=split_seed,
            solved_accuracy=solved_accuracy,
            **({"split": split} if split is not None else {}),
        )
        self._load()

    def _load(self) -> None:
        file = checked_path(self.options.path, TEXT_FORMATS)[0].stat()
        data = prepare(self.options.model_dump_json(), self.seq_len, file.st_size, file.st_mtime_ns)
        self.parts, self.vocabulary, self.labels, self.counts = data.parts, data.vocabulary, data.labels, data.counts
        self.file, self.rows, self.truncated, self._split = data.file, data.rows, data.truncated, data.split
        self.majority, self._chance, self._chance_loss = data.majority, data.chance, data.chance_loss
        self.output_size = len(data.labels)
        self.input_size = len(self.vocabulary) + 1  # the unknown token, then the kept tokens; padding is all zero

    @property
    def left_padded(self) -> bool:
        return True

    @property
    def n_train(self) -> int:
        return len(self.parts["train"])

    @property
    def n_test(self) -> int:
        return len(self.parts["test"])

    @property
    def chance(self) -> float:
        return self._chance

    @property
    def chance_loss(self) -> float:
        return self._chance_loss

    @property
    def solved_accuracy(self) -> float:
        given = self.options.solved_accuracy
        return given if given is not None else self._chance + 0.5 * (1.0 - self._chance)

    def _batch(self, part: str, index: Tensor, device: torch.device | str) -> Batch:
        ids, lengths, labels = self._split[part]
        chosen = ids[index].long()
        inputs = F.one_hot(chosen, self.input_size + 1)[..., 1:].float()  # id 0 (padding) -> all zero
        return Batch(inputs, labels[index], lengths[index]).to(device)

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        if batch_size > self.n_train:
            raise ValueError(
                f"text: {batch_size} texts asked for, the train split holds {self.n_train} (lower train_size or batch_size)"
            )
        index = torch.randperm(self.n_train, generator=generator, device=generator.device)[:batch_size].cpu()
        return self._batch("train", index, device)

    def held_out(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """The first `size` texts of the (shuffled, stratified) test split; `generator` is unused."""
        return self._batch("test", torch.arange(min(size, self.n_test)), device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.cross_entropy(outputs, batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        predicted = outputs.argmax(dim=-1)
        accuracy = (predicted == batch.targets).float().mean().item()
        extra = {"macro_f1": macro_f1(predicted, batch.targets, self.output_size)}
        return Evaluation(loss=loss, metric=accuracy, solved=accuracy >= self.solved_accuracy, extra=extra)

    def summary(self) -> list[str]:
        """What `validate` shows before training: the file, its split, the vocabulary, the classes and chance."""
        split = ", ".join(f"{name} {len(rows)}" for name, rows in self.parts.items())
        classes = ", ".join(f"{label} {sum(counts.values())}" for label, counts in self.counts.items())
        return [
            f"{self.file.path}: {self.rows} texts ({self.file.size_bytes} bytes, sha256 {self.file.sha256[:12]}); "
            f"split {split}",
            f"{self.output_size} classes: {classes}",
            f"vocabulary {self.input_size} {self.options.tokens} tokens (with the unknown one) from the train split; "
            f"{self.truncated} texts truncated to {self.seq_len}",
            f"chance (the train majority class, {self.labels[self.majority]!r}): accuracy {self._chance:.4g} on the test "
            f"split; solved at accuracy >= {self.solved_accuracy:.4g}",
        ]

    def data_record(self) -> dict[str, object]:
        return {
            "dataset": "text",
            **self.file.__dict__,
            "columns": [self.options.text, self.options.label],
            "rows": self.rows,
            "split": {name: len(rows) for name, rows in self.parts.items()},
            "tokens": self.options.tokens,
            "vocabulary": self.input_size,
            "truncated": self.truncated,
            "labels": self.labels,
            "class_counts": self.counts,
            "chance": self._chance,
        }


def macro_f1(predicted: Tensor, truth: Tensor, classes: int) -> float:
    """Unweighted mean of the per-class F1 over the classes that occur in the truth or the predictions."""
    pairs = torch.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    hits = pairs.diagonal().double()
    actual, called = pairs.sum(dim=1).double(), pairs.sum(dim=0).double()
    present = (actual + called) > 0
    f1 = 2 * hits / (actual + called).clamp(min=1)
    return float(f1[present].mean()) if bool(present.any()) else math.nan
