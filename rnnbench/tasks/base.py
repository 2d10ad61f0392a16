"""The task interface: a batch generator with its loss, metric, chance score and solved rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import Tensor

from rnnbench.catalog import TASK_SPECS, TaskSpec


@dataclass(frozen=True)
class Batch:
    """One batch of sequences, already on the run's device."""

    inputs: Tensor  # (batch, time, input_size), float32
    targets: Tensor  # task-specific shape and dtype
    lengths: Tensor | None = None  # (batch,) int64 true lengths when they vary; padding per Task.padding_side

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on `device` (no copy when it is already there)."""
        lengths = None if self.lengths is None else self.lengths.to(device)
        return Batch(self.inputs.to(device), self.targets.to(device), lengths)

    def select(self, index: Tensor) -> Batch:
        """The sequences at `index` (a 1-D index tensor on the batch's device)."""
        lengths = None if self.lengths is None else self.lengths[index]
        return Batch(self.inputs[index], self.targets[index], lengths)


@dataclass(frozen=True)
class Evaluation:
    """A task's judgement of a model's outputs on one batch."""

    loss: float
    metric: float
    solved: bool
    extra: dict[str, float] | None = None  # further metrics of the task (MAE, macro-F1 …), kept in `final.metrics`


class Task:
    """Base class of every task, and the protocol of a task plugin; a subclass fills the attributes and methods.

    A task instance is built from a suite entry: `Class(seq_len=..., **options)`, options being a
    built-in's own keys or a plugin's `args`. A built-in's description, causality and output kind
    live in `catalog.TASK_SPECS[name]`, torch-free; a plugin states them as class attributes
    (`description: str`, `causal: bool`, `output_kind: "last" | "sequence"`, optionally
    `min_seq_len`, `future`, `real`), which `suite.task_ref.task_spec` reads when the suite loads.
    Required of every task: `input_size` and `output_size` (ints, may be set in `__init__`),
    `metric_name`, `higher_is_better`, `chance`, `sample`, `loss`, `evaluate`; optional: `held_out`
    (a fixed split), `data_record` (what identifies a real data set: compare refuses another sha256),
    `chance_loss`, `beats_chance`, `padding_side`. See docs/plugins.md, "Task plugins".
    """

    name: ClassVar[str]
    follows: ClassVar[str]  # the published variant this task reproduces
    input_size: int
    output_size: int
    metric_name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    # Where zero padding goes when lengths vary: "left" keeps the real last step at the end for
    # `last` read-outs; a causal `sequence` task may pad on the right (see its module docstring).
    padding_side: ClassVar[Literal["left", "right"]] = "left"

    def __init__(self, seq_len: int) -> None:
        self.seq_len = seq_len

    @property
    def left_padded(self) -> bool:
        """Whether lengths vary and the padding is on the left: the tasks `packed: true` applies to.

        Such a task must start every real sequence with a step that is not all zero, since a
        packed model reads the lengths off the padding (`models/packing.py`).
        """
        return False

    @property
    def spec(self) -> TaskSpec:
        return TASK_SPECS[self.name]

    @property
    def output_kind(self) -> Literal["last", "sequence"]:
        return self.spec.output_kind

    @property
    def causal(self) -> bool:
        return self.spec.causal

    @property
    def chance(self) -> float | None:
        """The metric of the best memoryless strategy (None where no such baseline exists)."""
        raise NotImplementedError

    @property
    def chance_loss(self) -> float | None:
        """The loss of the best memoryless strategy, where it is known in closed form."""
        return None

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """Draw a batch with the given generator, vectorized over samples.

        Random numbers are drawn on the generator's own device (a CPU generator cannot drive
        CUDA sampling) and the batch is then moved to `device`; `tasks.data` makes the
        generator on the run's device, so nothing crosses the bus during training.
        """
        raise NotImplementedError

    def pool(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """The fixed pool of `train_size: size` sequences (`tasks.data`): `size` samples unless the task says
        otherwise (`series` keeps the most recent windows of its history, as views)."""
        return self.sample(size, generator, device)

    def held_out(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """The held-out set: a generated task draws it from the evaluation stream's generator; a
        task over a fixed data set returns its held-out split instead (`tasks.fixed`)."""
        return self.sample(size, generator, device)

    def data_record(self) -> dict[str, object] | None:
        """What identifies a real data set (its hash, source, version), stored with every case; None for generated data."""
        return None

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        """Scalar training loss. `outputs` is (B, output_size) for `last`, (B, T, output_size) for `sequence`."""
        raise NotImplementedError

    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        """Loss, metric and whether this batch meets the solved rule (host sync allowed here)."""
        raise NotImplementedError

    def beats_chance(self, metric: float) -> bool:
        """Whether a metric is clearly better than the memoryless baseline (10 % margin)."""
        if self.chance is None:
            return False
        if self.higher_is_better:
            return metric > self.chance + 0.1 * max(1.0 - self.chance, 1e-12)
        return metric < 0.9 * self.chance


def left_pad_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, max_len) bool, True on the real steps of sequences left-padded to `max_len`."""
    steps = torch.arange(max_len, device=lengths.device)
    return steps.unsqueeze(0) >= (max_len - lengths).unsqueeze(1)


def uniform_int(low: Tensor | int, high: Tensor | int, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """Integers uniform in [low, high) elementwise (bounds may be per-sample tensors), int64."""
    device = generator.device
    low_t = torch.as_tensor(low, device=device)
    high_t = torch.as_tensor(high, device=device)
    u = torch.rand(shape, generator=generator, device=device, dtype=torch.float64)
    # float64 keeps floor(u * n) exact for every n a sequence length can reach
    offset = (u * (high_t - low_t)).floor().long()
    return low_t + torch.minimum(offset, high_t - low_t - 1)
