"""Static facts about every model and task, torch-free, so a suite validates without importing torch.

`models.MODELS` is built from `MODEL_SPECS` and `tasks.TASKS` from `TASK_SPECS` (each spec's `impl`
names its Task class as "module:Class"), so a task or model is registered here and nowhere else.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NoOptions(BaseModel):
    """A task without options of its own."""

    model_config = ConfigDict(extra="forbid")


class TemporalOrderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    symbols: Literal[2, 3] = 2  # 2: experiment 6a (4 classes); 3: experiment 6b (8 classes)


class ParityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variable_length: bool = False  # True: lengths uniform in [1, seq_len], left-padded with zeros


class SineOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    series: Literal["sines", "mackey_glass"] = "sines"
    noise: float = Field(0.05, ge=0.0, le=1.0)  # std of additive Gaussian noise


class DigitsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: Literal["pixel", "row"] = "pixel"  # pixel: 64 steps of 1 pixel; row: 8 steps of 8 pixels
    permute: bool = False  # one fixed permutation of the 64 pixels first (permuted MNIST)


DIGITS_SEQ_LEN = {"pixel": 64, "row": 8}


class LookaheadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    symbols: int = Field(4, ge=2, le=64)  # alphabet size m
    window: int = Field(2, ge=1, le=64)  # k: is x_t among the next k symbols


@dataclass(frozen=True)
class Extra:
    """A package a task needs beyond the core dependencies, and the rnnbench extra that installs it."""

    module: str  # the import name, looked up with importlib.util.find_spec (nothing is imported)
    package: str
    extra: str


@dataclass(frozen=True)
class TaskSpec:
    """A task's torch-free facts and where its torch side lives: the task's one registry entry (`TASK_SPECS`)."""

    description: str
    causal: bool  # a target is a later input, so a bidirectional model would see the answer
    output_kind: Literal["last", "sequence"]
    options: type[BaseModel] = NoOptions
    min_seq_len: int = 1  # shortest seq_len the generator accepts (the task raises ValueError below it)
    real: bool = False  # real data (a shipped data set or text) rather than generated sequences
    requires: Extra | None = None
    seq_len_of: Callable[[BaseModel], int] | None = None  # a data set whose options fix the sequence length
    min_seq_len_of: Callable[[BaseModel], int] | None = None  # a minimum that depends on the options
    # each step's target depends on inputs after it: a unidirectional model cannot beat chance
    future: bool = False
    # the Task subclass as "module:Class"; `tasks/registry.py` imports it, so the catalog names it without torch
    impl: str = field(kw_only=True)


@dataclass(frozen=True)
class ModelSpec:
    description: str
    cell: Literal["rnn", "lstm", "gru", "peephole"]
    bidirectional: bool

    @property
    def gates(self) -> int:
        return CELL_GATES[self.cell]

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1


# Gates per cell, as the recap counts them (the GRU's update and reset gates; a tanh RNN has none).
CELL_GATES = {"rnn": 0, "lstm": 3, "gru": 2, "peephole": 3}
# Weight blocks per cell: P = G·(h·(i + h) + 2h) per layer and direction.
CELL_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3, "peephole": 4}

MODEL_SPECS: dict[str, ModelSpec] = {
    "rnn": ModelSpec("tanh RNN, the baseline with no gates", "rnn", False),
    "lstm": ModelSpec("LSTM: input, forget and output gates", "lstm", False),
    "gru": ModelSpec("GRU: update and reset gates", "gru", False),
    "bilstm": ModelSpec("bidirectional LSTM: a forward and a backward LSTM", "lstm", True),
    "bigru": ModelSpec("bidirectional GRU", "gru", True),
    "birnn": ModelSpec("bidirectional tanh RNN", "rnn", True),
    "peephole": ModelSpec("peephole LSTM (Gers & Schmidhuber 2000): gates see the cell state", "peephole", False),
    "bipeephole": ModelSpec("bidirectional peephole LSTM", "peephole", True),
}

IMPLS = ("fused", "cell", "scripted")
# Implementations each cell type has: the peephole LSTM has no fused kernel in PyTorch.
CELL_IMPLS = {"rnn": IMPLS, "lstm": IMPLS, "gru": IMPLS, "peephole": ("cell", "scripted")}

TASK_SPECS: dict[str, TaskSpec] = {
    "adding": TaskSpec(
        "sum of two marked values in a long sequence (Arjovsky et al. 2016)",
        False,
        "last",
        min_seq_len=2,
        impl="rnnbench.tasks.adding:Adding",
    ),
    "copy": TaskSpec(
        "recall 10 symbols after a delay of T steps (Arjovsky et al. 2016)",
        False,
        "sequence",
        impl="rnnbench.tasks.copy:Copy",
    ),
    "adding1997": TaskSpec(
        "sum of two marked values in [-1, 1], lengths T to 1.1T (Hochreiter & Schmidhuber 1997, exp. 4)",
        False,
        "last",
        min_seq_len=4,
        impl="rnnbench.tasks.adding1997:Adding1997",
    ),
    "temporal_order": TaskSpec(
        "order of 2 (or 3) X/Y symbols far apart among distractors (Hochreiter & Schmidhuber 1997, exp. 6)",
        False,
        "last",
        TemporalOrderOptions,
        min_seq_len=5,  # 6b's three key windows; 6a alone would take 4
        impl="rnnbench.tasks.temporal_order:TemporalOrder",
    ),
    "reber": TaskSpec(
        "legal next symbols of embedded Reber grammar strings (Hochreiter & Schmidhuber 1997, exp. 1)",
        True,
        "sequence",
        min_seq_len=9,  # the shortest embedded Reber string, BTBTXSETE
        impl="rnnbench.tasks.reber:Reber",
    ),
    "lookahead": TaskSpec(
        "at every step, does the current symbol recur within the next k steps (non-causal: the answer lies ahead)",
        False,
        "sequence",
        LookaheadOptions,
        min_seq_len=3,  # the default window of 2 plus one scored step
        min_seq_len_of=lambda options: options.window + 1,  # type: ignore[attr-defined]
        future=True,
        impl="rnnbench.tasks.lookahead:Lookahead",
    ),
    "parity": TaskSpec(
        "parity (XOR) of a bit string of length T (or 1 to T)",
        False,
        "last",
        ParityOptions,
        impl="rnnbench.tasks.parity:Parity",
    ),
    "sine": TaskSpec(
        "one-step forecast of a noisy sum of sines or Mackey-Glass series at every step",
        True,
        "sequence",
        SineOptions,
        impl="rnnbench.tasks.sine:Sine",
    ),
    "digits": TaskSpec(
        "UCI optical digits (scikit-learn) read pixel by pixel or row by row, the label at the end",
        False,
        "last",
        DigitsOptions,
        real=True,
        requires=Extra("sklearn", "scikit-learn", "data"),
        seq_len_of=lambda options: DIGITS_SEQ_LEN[options.order],  # type: ignore[attr-defined]
        impl="rnnbench.tasks.digits:Digits",
    ),
    "charlm": TaskSpec(
        "next-character prediction on the running Python's stdlib source, bits per character",
        True,
        "sequence",
        real=True,
        impl="rnnbench.tasks.charlm:CharLM",
    ),
}


def missing_extra(task: str) -> str | None:
    """Why `task` cannot run here (a package of an extra is not installed), in one line; None when it can."""
    needed = TASK_SPECS[task].requires
    if needed is None or importlib.util.find_spec(needed.module) is not None:
        return None
    return f"task {task} needs {needed.package}, which is not installed: pip install 'rnnbench[{needed.extra}]'"
