"""The suite schema (pydantic): every level forbids unknown keys, and the first error names its field path."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rnnbench.catalog import CELL_IMPLS, INFERENCE_PATHS, MODEL_SPECS, TASK_SPECS, missing_extra
from rnnbench.suite.arch import RESERVED_MODEL_ARGS, check_arch, is_plugin
from rnnbench.suite.task_ref import check_task, is_task_plugin, task_spec
from rnnbench.suite.variants import ForgetBias, check_variant, known_variant

# Strict ints: YAML `true` is not the size 1. Floats stay lax, since YAML 1.1 reads `1e-3` as a string.
PositiveInt = Annotated[StrictInt, Field(gt=0)]
Seed = Annotated[StrictInt, Field(ge=0, lt=2**32)]


class Strict(BaseModel):
    # No NaN or infinity: JSON results cannot hold them, and no setting means anything with them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class OptimizerConfig(Strict):
    name: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    lr: PositiveFloat = 0.001


class TrainConfig(Strict):
    max_steps: PositiveInt = 600  # hard cap on optimizer steps
    max_seconds: PositiveFloat = 30.0  # hard cap on training wall time (evaluation excluded)
    eval_every: PositiveInt = 50  # a learning-curve point (and the only host sync) every this many steps
    eval_size: PositiveInt = 1000  # held-out sequences scored at each evaluation


DEFAULT_MAX_REPEATS = 1000  # the timers' default too (measure/timer.py): one cap on the samples of a block


class TimingConfig(Strict):
    warmup: StrictInt = Field(5, ge=0)  # iterations thrown away (autotuning, primitive creation, allocator)
    min_repeats: PositiveInt = 10
    max_repeats: PositiveInt = DEFAULT_MAX_REPEATS
    max_seconds: PositiveFloat = 2.0  # budget per measured block (an interleaved group: this x its cases)
    # solo timing only (a case alone in its group): stop when the median's 95 % CI is this tight;
    # interleaved groups run for their budget (docs/measurement.md, "Two timing modes")
    target_rel_ci: float = Field(0.02, gt=0.0, lt=1.0)
    # fresh processes a timing group is timed in, one after another, sharing its budget: each process
    # carries a bias of its own, so only >= 2 give ratio intervals that cover a repeat run
    processes: PositiveInt = Field(1, le=16)

    @model_validator(mode="after")
    def _repeats_ordered(self) -> TimingConfig:
        if self.max_repeats < self.min_repeats:
            raise ValueError("max_repeats must be at least min_repeats")
        return self


class InferenceConfig(Strict):
    batch_sizes: list[PositiveInt] = Field(default_factory=lambda: [1, 64], min_length=1)
    # paths served after training, each timed paired against eager (docs/serving.md); [eager] alone: none
    paths: list[Literal[INFERENCE_PATHS]] = Field(default_factory=lambda: ["eager"], min_length=1)  # type: ignore[valid-type]

    @field_validator("paths")
    @classmethod
    def _distinct_paths(cls, paths: list[str]) -> list[str]:
        if len(set(paths)) != len(paths):
            raise ValueError("paths must be distinct")
        return paths


HiddenSize = PositiveInt | list[PositiveInt]


def _known_reference(reference: str | int | None) -> str | int | None:
    """match_params names a registered model (or is a parameter count)."""
    if isinstance(reference, str) and reference not in MODEL_SPECS:
        raise ValueError(f"unknown model {reference!r} (known: {', '.join(sorted(MODEL_SPECS))})")
    return reference


class CaseSettings(Strict):
    """Everything a case can set; `defaults`, a model entry and a task entry each override the previous."""

    hidden_size: HiddenSize = 64
    num_layers: PositiveInt = 1
    batch_size: PositiveInt = 64
    impl: Literal["fused", "cell", "scripted"] = "fused"
    optimizer: OptimizerConfig = OptimizerConfig()
    grad_clip: PositiveFloat | None = 1.0
    # LSTM family only: a number, or chrono (Tallec & Ollivier 2018); None keeps PyTorch's initialisation
    forget_bias: ForgetBias | None = None
    chrono_tmax: PositiveInt | None = None  # chrono's T_max; None: the task's seq_len
    variant: str | None = None  # an LSTM variant of Greff et al. 2017 (suite/variants.py); None: the arch itself
    train_size: PositiveInt | None = None  # None: fresh sequences every step
    match_params: str | PositiveInt | None = None  # pick hidden_size to match this model's (or this) count
    # variable-length (left-padded) tasks: start the recurrence at each sequence's real first step.
    # On by default: it costs a few % of train-step time (benchmarks/packing.py, docs/evidence/packing.md)
    packed: StrictBool = True
    train: TrainConfig = TrainConfig()
    timing: TimingConfig = TimingConfig()
    inference: InferenceConfig = InferenceConfig()

    _match_params_known = field_validator("match_params")(_known_reference)
    _variant_known = field_validator("variant")(known_variant)

    @model_validator(mode="after")
    def _layers_match_sizes(self) -> CaseSettings:
        if isinstance(self.hidden_size, list) and len(self.hidden_size) != self.num_layers:
            raise ValueError(f"hidden_size lists {len(self.hidden_size)} sizes but num_layers is {self.num_layers}")
        return self


class ModelEntry(Strict):
    """A model in the suite: `lstm`, or `{arch: lstm, hidden_size: 128, impl: cell}`."""

    arch: str
    hidden_size: HiddenSize | None = None
    num_layers: PositiveInt | None = None
    batch_size: PositiveInt | None = None
    impl: Literal["fused", "cell", "scripted"] | None = None
    optimizer: OptimizerConfig | None = None
    grad_clip: PositiveFloat | None = None
    forget_bias: ForgetBias | None = None
    chrono_tmax: PositiveInt | None = None
    variant: str | None = None
    train_size: PositiveInt | None = None
    match_params: str | PositiveInt | None = None
    packed: StrictBool | None = None
    train: TrainConfig | None = None
    timing: TimingConfig | None = None
    inference: InferenceConfig | None = None
    label: str | None = None  # column name in tables; defaults to arch (+ impl and other differences)
    bidirectional: bool | None = None  # plugins only: rnnbench passes bidirectional=True to the constructor
    args: dict[str, Any] | None = None  # plugins only: passed on to the constructor as keyword arguments

    _match_params_known = field_validator("match_params")(_known_reference)
    _arch_known = field_validator("arch")(check_arch)
    _variant_known = field_validator("variant")(known_variant)


class TaskEntry(BaseModel):
    """A task in the suite: `{task: adding, seq_len: 50}` plus the task's own options."""

    model_config = ConfigDict(extra="allow", frozen=True)
    task: str
    seq_len: PositiveInt
    train_size: PositiveInt | None = None
    batch_size: PositiveInt | None = None
    train: TrainConfig | None = None
    # the suite's models (arch or label) that run on this task; None: all of them
    models: list[str] | None = Field(None, min_length=1)
    # this entry's seeds instead of the suite's: a claim that needs many seeds gets them only where it is measured
    seeds: list[Seed] | None = Field(None, min_length=1)
    args: dict[str, Any] | None = None  # plugin tasks only: the constructor's own keyword arguments

    _task_known = field_validator("task")(check_task)

    @field_validator("args")
    @classmethod
    def _args_for_plugins(cls, args: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        task = info.data.get("task")
        if args is not None and isinstance(task, str) and not is_task_plugin(task):
            raise ValueError(f"only for plugin tasks; {task}'s options are keys of the entry")
        return args

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int] | None) -> list[int] | None:
        if seeds is not None and len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds

    @model_validator(mode="after")
    def _known_task_and_options(self) -> TaskEntry:
        if is_task_plugin(self.task):
            _plugin_task_fits(self)
            return self
        spec = TASK_SPECS[self.task]
        if self.seq_len < spec.min_seq_len:
            raise ValueError(f"seq_len {self.seq_len} is below {self.task}'s minimum of {spec.min_seq_len}")
        try:
            options = spec.options.model_validate(self.model_extra or {})
        except ValidationError as err:
            raise ValueError(f"{self.task} option {first_error(err)}") from None
        if spec.min_seq_len_of is not None and self.seq_len < spec.min_seq_len_of(options):
            raise ValueError(
                f"seq_len {self.seq_len} is below {self.task}'s minimum of {spec.min_seq_len_of(options)} with these options"
            )
        if spec.seq_len_of is not None and self.seq_len != spec.seq_len_of(options):
            raise ValueError(
                f"seq_len {self.seq_len}: {self.task} with these options has seq_len {spec.seq_len_of(options)}"
            )
        if (missing := missing_extra(self.task)) is not None:
            raise ValueError(missing)
        return self

    @property
    def options(self) -> dict[str, Any]:
        if is_task_plugin(self.task):
            return dict(self.args or {})
        spec_options = TASK_SPECS[self.task].options
        return spec_options.model_validate(self.model_extra or {}).model_dump()


def _plugin_task_fits(entry: TaskEntry) -> None:
    """A plugin task's options go under `args` (its keys and rnnbench's never collide); its own minimum seq_len holds."""
    for key in entry.model_extra or {}:
        raise ValueError(f"{key}: a plugin task takes its options under args ({{args: {{{key}: …}}}})")
    spec = task_spec(entry.task)
    if entry.seq_len < spec.min_seq_len:
        raise ValueError(f"seq_len {entry.seq_len} is below {entry.task}'s minimum of {spec.min_seq_len}")


MATRIX_KEYS = ("seq_len", "hidden_size", "num_layers", "batch_size", "train_size", "impl", "lr", "forget_bias")


class Suite(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=80)
    description: str = ""
    device: str = "auto"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    threads: PositiveInt | None = None
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)
    defaults: CaseSettings = CaseSettings()
    models: list[ModelEntry] = Field(min_length=1)  # a bare name is read as {arch: name}
    tasks: list[TaskEntry] = Field(min_length=1)
    matrix: dict[Literal[MATRIX_KEYS], list[Any]] = Field(default_factory=dict)  # type: ignore[valid-type]
    thresholds: dict[str, float] = Field(default_factory=dict)  # per-metric regression thresholds for compare

    @field_validator("device")
    @classmethod
    def _device_form(cls, device: str) -> str:
        if device in ("auto", "cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit()):
            return device
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, not {device!r}")

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds

    @field_validator("models", mode="before")
    @classmethod
    def _names_to_entries(cls, models: Any) -> Any:
        if isinstance(models, list):
            return [{"arch": m} if isinstance(m, str) else m for m in models]
        return models

    @model_validator(mode="before")
    @classmethod
    def _sweep_keys(cls, data: Any) -> Any:
        # Said here rather than by the Literal, whose error lists the keys but never says "not a sweep key".
        matrix = data.get("matrix") if isinstance(data, dict) else None
        for key in matrix if isinstance(matrix, dict) else ():
            if key not in MATRIX_KEYS:
                raise ValueError(
                    f"{field_path(('matrix', key))}: not a sweep key (sweep keys: {', '.join(MATRIX_KEYS)}); "
                    "vary other settings with labelled model entries or task entries"
                )
        return data

    @field_validator("matrix")
    @classmethod
    def _nonempty_axes(cls, matrix: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in matrix.items():
            if not values:
                raise ValueError(f"matrix axis {key!r} has no values")
            if any(value in values[:i] for i, value in enumerate(values)):
                raise ValueError(f"axis {key!r} repeats a value")  # it would repeat every case id
        return matrix

    @model_validator(mode="after")
    def _pairings(self) -> Suite:
        for i, entry in enumerate(self.models):
            if is_plugin(entry.arch):
                _plugin_entry_fits(i, entry, self)
                continue
            if entry.bidirectional is not None:
                raise ValueError(
                    f"models[{i}].bidirectional: only for plugins; the built-ins have bilstm, bigru, birnn, bipeephole"
                )
            if entry.args is not None:
                raise ValueError(
                    f"models[{i}].args: only for plugins; {entry.arch}'s settings are suite keys (hidden_size, num_layers, …)"
                )
            spec = MODEL_SPECS[entry.arch]
            impl = entry.impl or self.defaults.impl
            variant = entry.variant or self.defaults.variant
            if variant is not None and (problem := check_variant(entry.arch, spec.cell, variant, impl)):
                raise ValueError(f"models[{i}].variant: {problem}")
            if impl not in CELL_IMPLS[spec.cell]:
                raise ValueError(
                    f"models[{i}]: {entry.arch} has no {impl!r} implementation "
                    f"(available: {', '.join(CELL_IMPLS[spec.cell])})"
                )
            for j, task in enumerate(self.tasks):
                if task.models is not None and not ({entry.arch, entry.label} & set(task.models)):
                    continue  # this model does not run on this task
                if spec.bidirectional and task_spec(task.task).causal:
                    raise ValueError(
                        f"models[{i}] / tasks[{j}]: bidirectional {entry.arch} on causal task {task.task} "
                        "would see the answer from the future"
                    )
        names = {entry.arch for entry in self.models} | {entry.label for entry in self.models if entry.label}
        for j, task in enumerate(self.tasks):
            unknown = sorted(set(task.models or ()) - names)
            if unknown:
                raise ValueError(f"tasks[{j}].models: {unknown[0]!r} is not a model of this suite")
        return self


def _plugin_entry_fits(i: int, entry: ModelEntry, suite: Suite) -> None:
    """Settings that only rnnbench's own cores understand are refused on a plugin entry."""
    for key in ("impl", "forget_bias", "match_params", "packed", "variant", "chrono_tmax"):
        own_only = key in ("impl", "packed")  # defaults with a value for every entry: only the entry's own counts
        if getattr(entry, key) is not None or (not own_only and getattr(suite.defaults, key) is not None):
            raise ValueError(
                f"models[{i}].{key}: not available for plugin {entry.arch!r} (rnnbench cannot reach inside it)"
            )
    for key in ("impl", "forget_bias"):
        if key in suite.matrix:  # the sweep could not change the plugin, so its cases would repeat one id
            raise ValueError(f"matrix.{key}: not available for plugin {entry.arch!r} (models[{i}])")
    for key in sorted(set(entry.args or ()) & set(RESERVED_MODEL_ARGS)):
        raise ValueError(f"models[{i}].args.{key}: rnnbench passes {key} itself (set it with the suite's keys)")
    if entry.bidirectional:
        for j, task in enumerate(suite.tasks):
            if task_spec(task.task).causal:
                raise ValueError(
                    f"models[{i}] / tasks[{j}]: bidirectional {entry.arch} on causal task {task.task} "
                    "would see the answer from the future"
                )


class Case(Strict):
    """One fully resolved benchmark case: a model on a task with one seed. Picklable."""

    id: str
    label: str
    arch: str
    task: str
    task_options: dict[str, Any]
    seq_len: int
    seed: int
    device: str
    dtype: str
    settings: CaseSettings
    bidirectional: bool = False  # a plugin built with bidirectional=True
    model_args: dict[str, Any] | None = None  # a plugin model's constructor arguments (`args`)


def first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    msg = first["msg"].removeprefix("Value error, ")
    return f"{field_path(first['loc'])}: {msg}" if first["loc"] else msg


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and not part.isprintable():
            out += f"[{part!r}]"  # a key holding a newline or a control character
        else:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
