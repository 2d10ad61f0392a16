"""The two halves of a case record as they travel between units, and the run's extra record keys (torch-free).

A timing unit returns a `SpeedBlock` per case id; a training unit returns a `TrainPart`; the driver
joins both into a `CaseRecord` (runner.assemble). All are TypedDicts over the plain dicts that are
pickled to and from workers and written to the results file, so the JSON is unchanged.
"""

from __future__ import annotations

from typing_extensions import TypedDict

from rnnbench.results.records import (
    CaseJson,
    CaseStatus,
    DataJson,
    InferenceJson,
    MatchedJson,
    MemoryJson,
    PairedJson,
    PluginJson,
    RanOnJson,
    ResultsJson,
    TaskPluginJson,
    TimingJson,
    TrainJson,
)
from rnnbench.results.serving import ServingJson


class TrainTiming(TypedDict):
    """A train step's timing: the whole step and each phase (phases.PHASES), in ms."""

    step_ms: TimingJson
    phases_ms: dict[str, TimingJson]


class PairedBlock(PairedJson, total=False):
    """`paired` as the timing writes it: the schema's fields, how the rounds were ordered and how many processes."""

    order: str
    processes: int


class Failure(TypedDict):
    """A failed part: the error in one line and the traceback."""

    error: str
    traceback: str


class SpeedBlock(TypedDict, total=False):
    """What a timing unit returns per case id: its timings, or `error`/`traceback` where its timing failed."""

    train_timing: TrainTiming
    inference: dict[str, InferenceJson]  # "b1", "b32", …
    backend: str | None
    paired: PairedBlock
    paired_error: str  # the group's paired timing failed: this case was timed alone
    timed_on: RanOnJson
    error: str
    traceback: str


class TrainPart(TypedDict, total=False):
    """What a training unit returns: everything in a case's record but its timings."""

    started_at: str
    wall_s: float
    status: CaseStatus
    error: str | None
    traceback: str
    gates: int | None
    n_params: int | None
    n_core_params: int | None
    hidden_sizes: list[int]
    input_size: int
    forward_flops: int | None  # popped by assemble: it becomes `flops`
    data: DataJson
    plugin: PluginJson
    task_plugin: TaskPluginJson
    impl: str
    hidden_size: int
    matched: MatchedJson
    memory: MemoryJson
    train: TrainJson
    ran_on: RanOnJson
    serving: ServingJson  # only where inference.paths names more than eager


class CaseRecord(CaseJson, total=False):
    """A case record as the run writes it: `CaseJson` and the keys only the run adds (not read back)."""

    traceback: str | None
    timed_on: RanOnJson
    paired_error: str
    interrupted_at: str
    failed_at: str


class RunDocument(ResultsJson, total=False):
    """The results document as the driver keeps it: `ResultsJson` and when it was resumed."""

    resumed_at: list[str]
