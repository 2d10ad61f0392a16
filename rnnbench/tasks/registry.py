"""The task registry: name -> Task class, built as `TASKS[name](seq_len=..., **options)`.

Built from `catalog.TASK_SPECS`, the one place a task is registered: each spec's `impl` names its
Task subclass as "module:Class" (a string, so the torch-free catalog never imports a task).
"""

from __future__ import annotations

import importlib
from typing import Any

from rnnbench.catalog import TASK_SPECS
from rnnbench.suite.plugin_import import PluginError
from rnnbench.suite.task_ref import resolve_task
from rnnbench.tasks.base import Task


def load_task(impl: str) -> type[Task]:
    """The Task subclass named by a spec's `impl` ("package.module:Class")."""
    module, _, name = impl.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise TypeError(f"{impl} is not a Task subclass")
    return cls


TASKS: dict[str, type[Task]] = {name: load_task(spec.impl) for name, spec in TASK_SPECS.items()}


def task_class(name: str) -> type[Task]:
    """A built-in's class, or the Task subclass a plugin task names (imported once; PluginError when unusable)."""
    if name in TASKS:
        return TASKS[name]
    cls, _ = resolve_task(name)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise PluginError(f"{cls!r} is not a subclass of rnnbench.tasks.base.Task")
    return cls


def build_task(name: str, seq_len: int, options: dict[str, Any]) -> Task:
    """A case's task: `Class(seq_len=..., **options)`, options being a built-in's keys or a plugin's `args`."""
    return task_class(name)(seq_len=seq_len, **options)
