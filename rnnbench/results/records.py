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
    ci_coverage: float  # not checked by the schema: the CI's real coverage (below 6 samples, under 95 %)


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
    metrics: dict[str, float]  # a task's further metrics at the last evaluation (series, text)


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
    path: NotRequired[str]  # series, text: the user's file, its size, what was read and how it was split
    size_bytes: NotRequired[int]
    rows: NotRequired[int]
    columns: NotRequired[list[str]]
    split: NotRequired[dict[str, int]]


class PairedJson(TypedDict):
    group: str
    timed_as: str
    members: list[str]
    rounds: dict[str, int]
    blocks: NotRequired[dict[str, list[int]]]  # not checked by the schema: rounds per timing process, by metric key


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
    args: NotRequired[dict[str, object]]  # the entry's constructor arguments (files before them: absent)


class TaskPluginJson(TypedDict):
    """Where a plugin task came from (tasks/plugins.task_plugin_record) and the facts its class states."""

    task: str
    qualified_name: str
    file: str | None
    file_sha256: str | None
    package: str | None
    version: str | None
    description: str
    causal: bool
    output_kind: str
    future: bool
    real: bool


class MatchedJson(TypedDict, total=False):
    """How match_params sized a model (models.matching.ParamMatch.as_record)."""

    reference: str | int  # a model name, or the integer target given in the suite
    target_params: int
    hidden_size: int
    n_params: int
    rel_error: float
    counted: str  # "core": the recurrent core, head excluded


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
    task_plugin: NotRequired[TaskPluginJson]
    serving: NotRequired[Any]  # results.serving.ServingJson: written by the driver, not checked by the schema
    # written by the driver, not checked by the schema
    settings: NotRequired[dict[str, Any]]  # the case's suite settings (suite.schema.CaseSettings, as JSON)
    hidden_size: NotRequired[int]
    hidden_sizes: NotRequired[list[int]]
    num_layers: NotRequired[int]
    input_size: NotRequired[int]
    batch_size: NotRequired[int]
    train_size: NotRequired[int | None]
    impl: NotRequired[str]
    task_options: NotRequired[dict[str, object]]
    n_core_params: NotRequired[int | None]
    matched: NotRequired[MatchedJson]  # match_params runs only
    started_at: NotRequired[str]
    wall_s: NotRequired[float]


class MatmulJson(TypedDict, total=False):
    """One run of the reference matmul (measure.reference_matmul_gflops)."""

    size: int
    dtype: str
    matmul_ms: TimingJson
    matmul_gflops: float


class ReferenceJson(TypedDict, total=False):
    """The reference kernel at the start and the end of the run: how fast the machine was."""

    start: MatmulJson
    end: MatmulJson
    matmul_gflops: float


class EnvJson(TypedDict, total=False):
    """The environment fingerprint (run.env); the keys readers use, others (flags, …) pass through."""

    device: str
    device_index: int | None
    device_name: str | None
    cpu_model: str | None
    dtype: str
    torch: str
    cuda: str | None
    cudnn: int | str | None
    python: str
    platform: str
    threads: int
    git_sha: str | None
    flags: dict[str, object]
    hosts: list[str]  # the hosts the cases ran on (executors)
    executor: dict[str, object]  # the executor's plan (run.executors.base.Plan.as_record)
    test_slowdown: float | None  # RNNBENCH_TEST_SLOWDOWN: a padded test run


class ResultsJson(TypedDict):
    """A whole results file (schema.ResultsDoc). `suite` is the suite document (suite.schema)."""

    schema_version: int
    suite: dict[str, Any]
    env: EnvJson
    reference: NotRequired[ReferenceJson]
    status: NotRequired[Literal["running", "interrupted", "complete"] | None]
    cases: list[CaseJson]
    # written by the driver, not checked by the schema
    rnnbench_version: NotRequired[str]
    suite_path: NotRequired[str]
    started_at: NotRequired[str]
    finished_at: NotRequired[str | None]
