"""Static facts about every model and task, torch-free, so a suite validates without importing torch.

`models.MODELS` is built from `MODEL_SPECS` and `tasks.TASKS` from `TASK_SPECS` (each spec's `impl`
names its Task class as "module:Class"), so a task or model is registered here and nowhere else.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


Split = list[Annotated[float, Field(ge=0.0, le=1.0)]]


def _check_split(split: list[float], parts: tuple[int, ...]) -> list[float]:
    """Shares of the rows in file order (train, validation, test) or (train, test): a first and a last above 0, sum 1."""
    if len(split) not in parts:
        raise ValueError(
            f"split takes {' or '.join(map(str, parts))} shares (train, [validation,] test), not {len(split)}"
        )
    if split[0] <= 0 or split[-1] <= 0 or abs(sum(split) - 1.0) > 1e-6:
        raise ValueError(f"split {split}: the train and test shares must be above 0 and all shares sum to 1")
    return split


class SeriesOptions(BaseModel):
    """`task: series`: windows of a numeric CSV (or Parquet) file, forecasting the next `horizon` values."""

    model_config = ConfigDict(extra="forbid")
    path: str  # the file; a relative path is read from the suite file's folder
    column: str | None = None  # the one column read and forecast; or `columns` (with `target`)
    columns: list[str] | None = Field(None, min_length=1)
    target: str | None = None  # the forecast column, one of `columns`
    time: str | None = None  # a column the rows must already be sorted by (checked, never sorted for you)
    horizon: int = Field(1, ge=1, le=10_000)  # values forecast after each window
    season: int | None = Field(None, ge=1)  # the seasonal-persistence baseline's period, in rows (<= seq_len)
    split: Split = Field(default_factory=lambda: [0.7, 0.1, 0.2])  # chronological: train, validation, test
    missing: Literal["error", "drop", "interpolate"] = "error"
    solved_ratio: float = Field(0.9, gt=0.0, le=1.0)  # solved: model MSE <= this × persistence MSE
    # read and forecast the changes from row to row (a trending series leaves the train part's range);
    # the scores stay on the values themselves
    difference: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> SeriesOptions:
        _check_split(self.split, (2, 3))
        if (self.column is None) == (self.columns is None):
            raise ValueError("give either column (one series) or columns (with target)")
        if self.columns is not None:
            if len(set(self.columns)) != len(self.columns):
                raise ValueError("columns: a column is named twice")
            if self.target is None and len(self.columns) > 1:
                raise ValueError("target: name the forecast column, one of columns")
            if self.target is not None and self.target not in self.columns:
                raise ValueError(f"target {self.target!r} is not one of columns {self.columns}")
        elif self.target is not None and self.target != self.column:
            raise ValueError("target: only with columns (column is its own target)")
        if self.time is not None and self.time in self.read_columns:
            raise ValueError(f"time {self.time!r} is also a data column")
        return self

    @property
    def read_columns(self) -> list[str]:
        return list(self.columns) if self.columns is not None else [self.column or ""]

    @property
    def target_column(self) -> str:
        return self.target or self.read_columns[0]


class TextOptions(BaseModel):
    """`task: text`: labelled texts from a CSV, TSV or JSON Lines file, classified after the last token."""

    model_config = ConfigDict(extra="forbid")
    path: str  # the file; a relative path is read from the suite file's folder
    text: str  # the text column (key, in JSON Lines)
    label: str  # the label column; labels are read as strings
    tokens: Literal["char", "word"] = "char"
    min_count: int = Field(1, ge=1)  # tokens seen fewer times in the train split become the unknown token
    max_vocab: int = Field(1000, ge=1, le=100_000)  # most frequent tokens kept; inputs are one-hot of this size
    split: Split = Field(default_factory=lambda: [0.8, 0.2])  # stratified: train, [validation,] test
    split_seed: int = Field(0, ge=0, lt=2**32)  # the split is drawn once with it, the same for every case
    solved_accuracy: float | None = Field(None, gt=0.0, le=1.0)  # default: half way from chance to 1

    @field_validator("split")
    @classmethod
    def _split_shares(cls, split: list[float]) -> list[float]:
        return _check_split(split, (2, 3))

    @model_validator(mode="after")
    def _two_columns(self) -> TextOptions:
        if self.text == self.label:
            raise ValueError(f"text and label name the same column {self.text!r}")
        return self


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
    # reads the user's file (option `path`): built, and so checked, before any case starts (`tasks/user_data.py`)
    reads_file: bool = False
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
# Inference paths a suite can serve through (`inference.paths`, rnnbench/serve): eager is the reference.
INFERENCE_PATHS = ("eager", "torchscript", "compile", "onnxruntime", "int8")
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
    "series": TaskSpec(
        "your numeric series (CSV or Parquet): forecast the next values after a window, scored against persistence",
        True,
        "last",
        SeriesOptions,
        real=True,
        requires=Extra("pandas", "pandas", "data"),
        min_seq_len_of=lambda options: options.season or 1,  # type: ignore[attr-defined]
        reads_file=True,
        impl="rnnbench.tasks.series:Series",
    ),
    "text": TaskSpec(
        "your labelled texts (CSV, TSV or JSON Lines): the label after the last token, characters or words",
        False,
        "last",
        TextOptions,
        real=True,
        requires=Extra("pandas", "pandas", "data"),
        reads_file=True,
        impl="rnnbench.tasks.text:Text",
    ),
}


def missing_extra(task: str) -> str | None:
    """Why `task` cannot run here (a package of an extra is not installed), in one line; None when it can."""
    needed = TASK_SPECS[task].requires
    if needed is None or importlib.util.find_spec(needed.module) is not None:
        return None
    return f"task {task} needs {needed.package}, which is not installed: pip install 'rnnbench[{needed.extra}]'"
