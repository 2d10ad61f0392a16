"""Expansion of a validated suite into cases (ids, labels, matrix sweeps) and into timing groups; loading a suite file."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rnnbench.catalog import CELL_IMPLS, MODEL_SPECS, TASK_SPECS
from rnnbench.suite.arch import args_tag, is_plugin
from rnnbench.suite.data_paths import resolve_data_paths
from rnnbench.suite.files import SuiteError, read_yaml, resolve_suite_path
from rnnbench.suite.schema import Case, CaseSettings, ModelEntry, Suite, TaskEntry, first_error
from rnnbench.suite.task_ref import task_spec
from rnnbench.suite.variants import check_variant, forget_bias_tag

DEFAULT_MAX_CASES = 5_000  # more than a day of CPU time at the smallest sizes; override with --max-cases


def _merge(base: CaseSettings, overrides: dict[str, Any], where: str, keep_none: bool = False) -> CaseSettings:
    # An entry's None means "not set"; a matrix's null is a value (train_size: null is fresh data).
    merged = base.model_dump()
    merged.update({k: v for k, v in overrides.items() if keep_none or v is not None})
    try:
        return CaseSettings.model_validate(merged)
    except ValidationError as err:
        raise ValueError(f"{where}: {first_error(err)}") from None


def _hidden_tag(hidden_size: int | list[int]) -> str:
    return "h" + ("-".join(map(str, hidden_size)) if isinstance(hidden_size, list) else str(hidden_size))


def case_id(
    task: str,
    task_options: dict[str, Any],
    seq_len: int,
    label: str,
    s: CaseSettings,
    seed: int,
    unswept: CaseSettings | None = None,
) -> str:
    """A stable, readable id: `adding/T50/lstm/h64/s0`, with extra parts only where they differ from the norm.

    Batch size and learning rate show (`/b8`, `/lr0.01`) only where the matrix changed them from
    `unswept`, the case's settings without the matrix, so every id from before they could show stays.
    """
    unswept = s if unswept is None else unswept
    task_part = _task_part(task, task_options)
    parts = [task_part, f"T{seq_len}", label, _hidden_tag(s.hidden_size)]
    if s.match_params is not None:
        parts[-1] = f"p~{s.match_params}"
    if s.num_layers > 1:
        parts.append(f"L{s.num_layers}")
    if s.train_size is not None:
        parts.append(f"n{s.train_size}")
    if s.batch_size != unswept.batch_size:
        parts.append(f"b{s.batch_size}")
    if s.optimizer.lr != unswept.optimizer.lr:
        parts.append(f"lr{s.optimizer.lr!r}")  # repr: the shortest text that reads back as the same float
    parts.append(f"s{seed}")
    return "/".join(parts)


_NO_DEFAULT = object()  # a plugin task's args have no default the id could omit


def _option_default(task: str, key: str) -> Any:
    field = task_spec(task).options.model_fields.get(key)
    return _NO_DEFAULT if field is None else field.get_default(call_default_factory=True)


# Options of a file-reading task that only name what to read: left out of ids, which show the file's name instead.
FILE_NAMING_OPTIONS = ("path", "column", "columns", "target", "time", "text", "label")


def _task_part(task: str, task_options: dict[str, Any]) -> str:
    """`adding`, `temporal_order-symbols=3`, or for a task over the user's file `series-sales.csv-horizon=4`."""
    shown = {k: v for k, v in sorted(task_options.items()) if v != _option_default(task, k)}
    if task in TASK_SPECS and TASK_SPECS[task].reads_file:
        name = Path(str(task_options.get("path", ""))).name  # ids are split on '/': never a folder
        shown = {k: "+".join(map(str, v)) if isinstance(v, list) else v for k, v in shown.items()}
        shown = {k: v for k, v in shown.items() if k not in FILE_NAMING_OPTIONS}
        task = f"{task}-{name}"
    return task + "".join(f"-{k}={v}" for k, v in shown.items())


def _model_label(entry: ModelEntry, settings: CaseSettings) -> str:
    if entry.label:
        return entry.label
    label = entry.arch
    if is_plugin(entry.arch):  # impl and forget_bias do not apply to a plugin
        return label + args_tag(entry.args) + ("-bi" if entry.bidirectional else "")
    if settings.variant is not None:
        label += f"-{settings.variant}"
    if settings.impl != "fused":
        label += f"-{settings.impl}"
    if settings.forget_bias is not None:
        label += forget_bias_tag(settings.forget_bias, settings.chrono_tmax)
    if settings.packed != CaseSettings.model_fields["packed"].default:
        label += "-packed" if settings.packed else "-padded"
    return label


def seeds_of(suite: Suite, task: TaskEntry) -> list[int]:
    """The seeds a task entry's cases run with: its own `seeds`, else the suite's."""
    return task.seeds if task.seeds is not None else suite.seeds


def _task_models(suite: Suite, task: TaskEntry) -> list[tuple[int, ModelEntry]]:
    """(index, entry) of the suite's models that run on this task entry (its `models`, else all)."""
    return [
        (m, entry)
        for m, entry in enumerate(suite.models)
        if task.models is None or {entry.arch, entry.label} & set(task.models)
    ]


def expand(suite: Suite, max_cases: int = DEFAULT_MAX_CASES) -> list[Case]:
    """Every (task, matrix point, model, seed) combination as a Case, in run order (a task entry's own seeds win)."""
    axes = list(suite.matrix.items())
    n_points = 1
    for _, values in axes:
        n_points *= len(values)
    total = n_points * sum(len(_task_models(suite, task)) * len(seeds_of(suite, task)) for task in suite.tasks)
    if total > max_cases:
        raise ValueError(
            f"the suite expands to {total} cases, more than the limit of {max_cases} (raise it with --max-cases)"
        )
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for t, task in enumerate(suite.tasks):
        for point in itertools.product(*[values for _, values in axes]):
            sweep = dict(zip([key for key, _ in axes], point))
            seq_len = sweep.pop("seq_len", task.seq_len)
            task_overrides = {"train_size": task.train_size, "batch_size": task.batch_size, "train": task.train}
            for m, entry in _task_models(suite, task):
                where = f"models[{m}]"
                unswept = _merge(
                    suite.defaults, entry.model_dump(exclude={"arch", "label", "bidirectional", "args"}), where
                )
                unswept = _merge(unswept, task_overrides, f"tasks[{t}]")
                overrides = {k: v for k, v in sweep.items() if k != "lr"}
                if "lr" in sweep:  # the learning rate of the optimizer this case would have had, not the defaults'
                    overrides["optimizer"] = {**unswept.optimizer.model_dump(), "lr": sweep["lr"]}
                settings = _merge(unswept, overrides, "matrix", keep_none=True)
                _check_sweep(sweep, entry, settings, where)
                _check_seq_len(task, seq_len)
                label = _model_label(entry, settings)
                for seed in seeds_of(suite, task):
                    cid = case_id(task.task, task.options, seq_len, label, settings, seed, unswept)
                    if cid in seen:
                        raise ValueError(
                            f"{where}: duplicate case id {cid} (also from {seen[cid]}); give the entry a distinct label"
                        )
                    seen[cid] = where
                    cases.append(
                        Case(
                            id=cid,
                            label=label,
                            arch=entry.arch,
                            task=task.task,
                            task_options=task.options,
                            seq_len=seq_len,
                            seed=seed,
                            device=suite.device,
                            dtype=suite.dtype,
                            settings=settings,
                            bidirectional=bool(entry.bidirectional),
                            model_args=entry.args,
                        )
                    )
    return cases


def _check_seq_len(task: TaskEntry, seq_len: Any) -> None:
    """A matrix seq_len the task accepts: a positive int, at least its minimum, its fixed length where it has one."""
    if not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len < 1:
        raise ValueError(f"matrix.seq_len: {seq_len!r} is not a positive integer")
    spec = task_spec(task.task)
    if seq_len < spec.min_seq_len:
        raise ValueError(f"matrix.seq_len: {seq_len} is below {task.task}'s minimum of {spec.min_seq_len}")
    fixed = spec.seq_len_of
    if fixed is not None and seq_len != fixed(spec.options(**task.options)):
        raise ValueError(f"matrix.seq_len: {task.task} has a fixed seq_len, not {seq_len}")


def _check_sweep(sweep: dict[str, Any], entry: ModelEntry, settings: CaseSettings, where: str) -> None:
    """Sweeps the schema cannot see: they depend on the model entry the matrix point lands on."""
    if "hidden_size" in sweep and settings.match_params is not None:
        raise ValueError(f"matrix.hidden_size: {where} picks its hidden size by match_params; sweep one or the other")
    if "impl" in sweep and not is_plugin(entry.arch) and settings.impl not in CELL_IMPLS[MODEL_SPECS[entry.arch].cell]:
        available = ", ".join(CELL_IMPLS[MODEL_SPECS[entry.arch].cell])
        raise ValueError(
            f"matrix.impl: {where} {entry.arch} has no {settings.impl!r} implementation (available: {available})"
        )
    if "impl" in sweep and settings.variant is not None and not is_plugin(entry.arch):
        problem = check_variant(entry.arch, MODEL_SPECS[entry.arch].cell, settings.variant, settings.impl)
        if problem:
            raise ValueError(f"matrix.impl: {where} {problem}")


def parse_suite(data: Any, source: str) -> Suite:
    """Validate a loaded document; the error names the source and the field path."""
    if not isinstance(data, dict):
        raise SuiteError(
            f"{source}: a suite must be a YAML mapping (name:, models:, tasks:, …), not {type(data).__name__}"
        )
    try:
        return Suite.model_validate(data)
    except ValidationError as err:
        raise SuiteError(f"{source}: {first_error(err)}" + _more(err)) from None
    except (ValueError, TypeError, RecursionError) as err:
        raise SuiteError(f"{source}: {err}") from None


def _more(err: ValidationError) -> str:
    n = err.error_count()
    return f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""


def load_suite(name_or_path: str | Path, max_cases: int = DEFAULT_MAX_CASES) -> tuple[Suite, list[Case], Path]:
    """Load, validate and expand a suite file or built-in name; every problem is one SuiteError line."""
    path = resolve_suite_path(str(name_or_path))
    suite = parse_suite(resolve_data_paths(read_yaml(path), path.parent), str(path))
    try:
        cases = expand(suite, max_cases=max_cases)
    except (ValueError, TypeError) as err:
        raise SuiteError(f"{path}: {err}") from None
    return suite, cases, path


def timing_group_key(case: Case) -> tuple[Any, ...]:
    """What must be equal for two cases' timings to be paired: everything but the model, its implementation and seed."""
    s = case.settings.model_dump(
        exclude={"impl", "forget_bias", "hidden_size", "match_params", "num_layers", "variant", "chrono_tmax"}
    )
    return (case.task, repr(sorted(case.task_options.items())), case.seq_len, case.device, case.dtype, repr(s))


def timing_groups(cases: list[Case]) -> list[list[Case]]:
    """Cases grouped by `timing_group_key`, groups and their cases in run order.

    A group holds cases that differ only in model (arch, size, layers, forget bias), implementation
    and seed: same task, seq_len, batch, device, dtype and threads (one suite), so their train steps
    and inferences can be timed interleaved and their ratios read from paired rounds. Seeds stay in
    the group but are timed once per model (`model_key`): a seed changes the weights, not the work
    (no recurrence here has data-dependent control flow), so re-timing it only re-measures drift;
    the group spends that budget on more rounds instead (docs/paired-timing.md).
    """
    groups: dict[tuple[Any, ...], list[Case]] = {}
    for case in cases:
        groups.setdefault(timing_group_key(case), []).append(case)
    return list(groups.values())


def model_key(case: Case) -> str:
    """A case's model within its timing group: its id without the seed (seeds of one model share a timing)."""
    return case.id.rsplit("/", 1)[0]
