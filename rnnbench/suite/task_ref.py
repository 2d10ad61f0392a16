"""The one accessor for a task's torch-free facts (`task_spec`): a built-in's catalog entry, or a plugin's class attributes.

A plugin task (`task: package.module:Name`, or an entry point in group `rnnbench.tasks`) is
imported here when the suite is loaded, since its causality decides which models may run on it;
only then does loading a suite import the plugin (and torch). Its facts are read off the class
(`description`, `causal`, `output_kind`, optional `min_seq_len`, `future`, `real`), so the schema,
the expansion and the bidirectional refusal treat built-ins and plugins alike.
"""

from __future__ import annotations

import functools
from typing import Any

from rnnbench.catalog import TASK_SPECS, TaskSpec
from rnnbench.suite.plugin_import import QUALIFIED, PluginError, entry_point_names, resolve_object

TASK_PLUGIN_GROUP = "rnnbench.tasks"


def is_task_plugin(task: str) -> bool:
    """Built-in names win: an entry point called `adding` never replaces the built-in adding problem."""
    return task not in TASK_SPECS


@functools.cache
def resolve_task(task: str) -> tuple[Any, Any]:
    """The class a plugin task names and where it comes from (a `PluginSource`); imported once per process."""
    return resolve_object(task, TASK_PLUGIN_GROUP)


def _class_attr(cls: type, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = getattr(cls, key, default)
    # A property (the Task base's `causal`, `output_kind`) means the subclass did not set it.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wanted = "True or False" if kind is bool else getattr(kind, "__name__", str(kind))
        raise PluginError(f"class attribute {key} must be {wanted}, not {value!r}")
    return value


@functools.cache
def _plugin_spec(task: str) -> TaskSpec:
    cls, _ = resolve_task(task)
    if not isinstance(cls, type):
        raise PluginError(f"{task!r} is a {type(cls).__name__}, not a class")
    output_kind = getattr(cls, "output_kind", None)
    if output_kind not in ("last", "sequence"):
        raise PluginError(f"class attribute output_kind must be 'last' or 'sequence', not {output_kind!r}")
    doc = (cls.__doc__ or "").strip().splitlines()
    return TaskSpec(
        _class_attr(cls, "description", str, doc[0] if doc else task),
        _class_attr(cls, "causal", bool),
        output_kind,
        min_seq_len=_class_attr(cls, "min_seq_len", int, 1),
        future=_class_attr(cls, "future", bool, False),
        real=_class_attr(cls, "real", bool, False),
        impl=task,
    )


def task_spec(task: str) -> TaskSpec:
    """A task's facts: the catalog's for a built-in, the class's for a plugin (PluginError when it cannot be used)."""
    return TASK_SPECS[task] if task in TASK_SPECS else _plugin_spec(task)


def check_task(task: str) -> str:
    """A built-in name, or a plugin that imports and states its facts; else a one-line ValueError."""
    if task in TASK_SPECS:
        return task
    if not (QUALIFIED.match(task) or task in entry_point_names(TASK_PLUGIN_GROUP)):
        raise ValueError(
            f"unknown task {task!r} (built-in: {', '.join(sorted(TASK_SPECS))}; "
            f"or package.module:Name, or an entry point in group {TASK_PLUGIN_GROUP})"
        )
    try:
        task_spec(task)
    except PluginError as err:
        raise ValueError(f"{task}: {err}") from None
    return task
