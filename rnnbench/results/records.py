"""The results file's records as the JSON readers see them: TypedDicts over the plain dicts (torch-free).

`schema.py` checks a file once, on load (pydantic, strict, unknown fields allowed); readers then
work on the same plain dicts the driver wrote, typed by these. The dicts are what gets written
back (resume, `ab`), so the file stays byte-identical; a TypedDict costs nothing at run time and
keeps unknown keys (older or newer files). tests/test_records.py keeps each TypedDict's keys equal
to its pydantic record's fields.

Keys a file may lack are NotRequired: read them with `.get`. A sub-record (train, final, memory …)
is absent rather than null; a number may be null (diverged, non-finite or not measured).
"""

from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict  # NotRequired at run time before 3.11

Number = float | None
CaseStatus = Literal["ok", "diverged", "failed", "interrupted"]


class TimingJson(TypedDict, total=False):
    """A timing summary (stats.summarize): raw samples and their statistics, in ms."""

    samples: list[float]
    median: Number
    iqr: Number
    mean: Number
    std: Number
    ci95: list[float] | None
    n: int | None
    unstable: bool | None


class FinalJson(TypedDict, total=False):
    loss: Number
    metric: Number
    solved: bool | None
    chance: Number
    chance_loss: Number
    train_loss: Number
    beats_chance: bool | None
    higher_is_better: bool | None
    metric_name: str | None


class TrainJson(TypedDict, total=False):
    steps: int | None
    wall_ms: Number
    step_ms: TimingJson
    phases_ms: dict[str, TimingJson]
    curve: list[list[Number]]  # [step, elapsed_ms, loss, metric]
    final: FinalJson
    steps_to_solve: int | None
    ms_to_solve: Number
    diverged_at: int | None


class InferenceJson(TypedDict, total=False):
    latency_ms: TimingJson
    seq_per_s: Number


class FlopsJson(TypedDict, total=False):
    forward: Number
    train_step: Number
    achieved_gflops: Number
    pct_of_matmul_peak: Number


class TrainingMemoryJson(TypedDict, total=False):
    saved_for_backward_bytes: int | None
    parameters_bytes: int | None
    gradients_bytes: int | None
    optimizer_state_bytes: int | None
    total_bytes: int | None
    peak_allocated_bytes: int | None


class InferenceMemoryJson(TypedDict, total=False):
    parameters_bytes: int | None
    peak_allocated_bytes: int | None
    total_bytes: int | None


class MemoryJson(TypedDict, total=False):
    training: TrainingMemoryJson
    inference: dict[str, InferenceMemoryJson]  # "b1", "b32", …
    peak_bytes: int | None  # legacy


class DataJson(TypedDict):
    dataset: str
    sha256: str
    python: NotRequired[str | None]


class PairedJson(TypedDict):
    group: str
    timed_as: str
    members: list[str]
    rounds: dict[str, int]


class RanOnJson(TypedDict, total=False):
    host: str | None
    device: str | None
    device_name: str | None
    cpu_model: str | None
    worker: str | None
    cores: int | None
    threads: int | None


class PluginJson(TypedDict):
    arch: str
    qualified_name: str
    file: NotRequired[str | None]
    file_sha256: NotRequired[str | None]
    package: NotRequired[str | None]
    version: NotRequired[str | None]
    bidirectional: NotRequired[bool]


class CaseJson(TypedDict):
    """One case record (schema.CaseRecord); the driver also writes the suite's case settings (hidden, …)."""

    id: str
    arch: str
    task: str
    seq_len: int
    seed: int
    status: CaseStatus
    label: NotRequired[str]
    error: NotRequired[str | None]
    n_params: NotRequired[int | None]
    gates: NotRequired[int | None]
    backend: NotRequired[str | None]
    train: NotRequired[TrainJson]
    inference: NotRequired[dict[str, InferenceJson]]  # "b1", "b32", …
    flops: NotRequired[FlopsJson]
    memory: NotRequired[MemoryJson]
    data: NotRequired[DataJson]
    paired: NotRequired[PairedJson]
    ran_on: NotRequired[RanOnJson]
    plugin: NotRequired[PluginJson]


class ResultsJson(TypedDict):
    """A whole results file (schema.ResultsDoc). `suite` and `env` are free-form documents of their own."""

    schema_version: int
    suite: dict[str, Any]
    env: dict[str, Any]
    reference: NotRequired[dict[str, Any]]
    status: NotRequired[Literal["running", "interrupted", "complete"] | None]
    cases: list[CaseJson]
