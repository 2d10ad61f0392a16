"""The results file's versioned schema as pydantic records (torch-free).

Format history:
  1 — first version: env fingerprint, reference kernel, one record per case with raw timing samples.
      Later additions that keep version 1 (optional, so older files still load): a case's `ran_on`
      {host, device, device_name, cpu_model, worker, cores, threads}; env `hosts` and `executor`;
      a case's `memory.training` and `memory.inference` (bytes the model needs), which replace the
      process-wide `memory.peak_bytes` and `memory.phases` (still loaded from older files).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

SCHEMA_VERSION = 1


class ResultsError(Exception):
    """A results file that cannot be used; the message is one line naming the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))  # one line, whatever the file holds


class Record(BaseModel):
    """Typed where readers (render, compare, report) rely on a field, free-form elsewhere.

    Strict scalars: a hand-edited "NaN" string or `true` where a number belongs is refused
    at load time with the field's path, rather than crashing a renderer later.
    """

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)


Number = StrictFloat | None  # StrictFloat takes ints too; null is a missing or non-finite value


class TimingRecord(Record):
    samples: list[StrictFloat] = []
    median: Number = None
    iqr: Number = None
    mean: Number = None
    std: Number = None
    ci95: tuple[StrictFloat, StrictFloat] | None = None
    n: StrictInt | None = None
    unstable: StrictBool | None = None


class FinalRecord(Record):
    loss: Number = None
    metric: Number = None
    solved: StrictBool | None = None
    chance: Number = None
    chance_loss: Number = None
    train_loss: Number = None
    beats_chance: StrictBool | None = None
    higher_is_better: StrictBool | None = None
    metric_name: StrictStr | None = None
    metrics: dict[str, Number] | None = None  # a task's further metrics (series: mae, mse_ratio; text: macro_f1)


class TrainRecord(Record):
    steps: StrictInt | None = None
    wall_ms: Number = None
    step_ms: TimingRecord | None = None
    phases_ms: dict[str, TimingRecord] | None = None
    curve: list[Annotated[list[Number], Field(min_length=4, max_length=4)]] = []  # [step, elapsed_ms, loss, metric]
    final: FinalRecord | None = None
    steps_to_solve: StrictInt | None = None
    ms_to_solve: Number = None
    diverged_at: StrictInt | None = None


class InferenceRecord(Record):
    latency_ms: TimingRecord | None = None
    seq_per_s: Number = None


class FlopsRecord(Record):
    forward: Number = None
    train_step: Number = None
    achieved_gflops: Number = None
    pct_of_matmul_peak: Number = None


class TrainingMemoryRecord(Record):
    """Bytes one training step keeps (measure.memory.training_memory); `total_bytes` is the sum of the four parts."""

    saved_for_backward_bytes: StrictInt | None = None
    parameters_bytes: StrictInt | None = None
    gradients_bytes: StrictInt | None = None
    optimizer_state_bytes: StrictInt | None = None
    total_bytes: StrictInt | None = None
    peak_allocated_bytes: StrictInt | None = None  # the allocator's peak during the step


class InferenceMemoryRecord(Record):
    """Bytes one forward needs at one batch size: the parameters plus the peak it allocated."""

    parameters_bytes: StrictInt | None = None
    peak_allocated_bytes: StrictInt | None = None
    total_bytes: StrictInt | None = None


class MemoryRecord(Record):
    training: TrainingMemoryRecord | None = None
    inference: dict[Annotated[str, StringConstraints(pattern=r"^b[1-9][0-9]*$")], InferenceMemoryRecord] | None = None
    # legacy (files before training memory): the process's peak resident set, torch included, and its `phases`
    peak_bytes: StrictInt | None = None


class DataRecord(Record):
    """What a real data set was (tasks.*.data_record): compare refuses cases whose sha256 differ."""

    dataset: StrictStr
    sha256: StrictStr
    python: StrictStr | None = None  # charlm: the corpus is the running Python's stdlib source
    path: StrictStr | None = None  # series, text: the user's file (size, SHA-256, rows, columns, split sizes)
    size_bytes: StrictInt | None = None
    rows: StrictInt | None = None
    columns: list[StrictStr] | None = None
    split: dict[str, StrictInt] | None = None


class PairedRecord(Record):
    """How a case was timed interleaved: cases with one `group` have round-aligned samples."""

    group: StrictStr
    timed_as: StrictStr  # the representative whose samples this case shares (itself, or its model's first seed)
    members: list[StrictStr]
    rounds: dict[StrictStr, StrictInt]


class RanOnRecord(Record):
    """Where a case ran (added with the executors; absent in older files): timings pair only within one host and device."""

    host: StrictStr | None = None
    device: StrictStr | None = None
    device_name: StrictStr | None = None
    cpu_model: StrictStr | None = None
    worker: StrictStr | None = None
    cores: StrictInt | None = None
    threads: StrictInt | None = None


class PluginRecord(Record):
    """Where a plugin model came from (`arch: package.module:Name` or an entry point); absent for built-ins."""

    arch: StrictStr
    qualified_name: StrictStr
    file: StrictStr | None = None
    file_sha256: StrictStr | None = None
    package: StrictStr | None = None
    version: StrictStr | None = None
    bidirectional: StrictBool = False
    args: dict[str, Any] | None = None  # the entry's constructor arguments


class TaskPluginRecord(Record):
    """Where a plugin task came from and the facts its class stated (claims read causality from here)."""

    task: StrictStr
    qualified_name: StrictStr
    causal: StrictBool
    output_kind: Literal["last", "sequence"]
    future: StrictBool = False
    real: StrictBool = False


class CaseRecord(Record):
    """The fields every case record must have, and the types of those that readers use."""

    id: StrictStr
    arch: StrictStr
    task: StrictStr
    seq_len: StrictInt
    seed: StrictInt
    status: Literal["ok", "diverged", "failed", "interrupted"]
    label: StrictStr | None = None
    error: StrictStr | None = None
    n_params: StrictInt | None = None
    gates: StrictInt | None = None
    backend: StrictStr | None = None
    train: TrainRecord | None = None
    inference: dict[Annotated[str, StringConstraints(pattern=r"^b[1-9][0-9]*$")], InferenceRecord] | None = None
    flops: FlopsRecord | None = None
    memory: MemoryRecord | None = None
    data: DataRecord | None = None  # real-data tasks only
    paired: PairedRecord | None = None  # absent in files from before interleaved timing
    ran_on: RanOnRecord | None = None
    plugin: PluginRecord | None = None
    task_plugin: TaskPluginRecord | None = None

    @model_validator(mode="after")
    def _readable(self) -> CaseRecord:
        # Absent is fine (a failed case has no timings); null where a reader expects a value is not.
        for key in ("label", "train", "inference"):
            if key in self.model_fields_set and getattr(self, key) is None:
                raise ValueError(f"{key} is null")
        if self.status in ("ok", "diverged") and (self.train is None or self.train.final is None):
            raise ValueError(f"a case with status {self.status} must have train.final")
        return self


class ResultsDoc(Record):
    schema_version: StrictInt
    suite: dict[str, Any]
    env: dict[str, Any]
    reference: dict[str, Any] = {}
    status: Literal["running", "interrupted", "complete"] | None = None
    cases: list[CaseRecord]
