"""The task registry: name -> Task class, built as `TASKS[name](seq_len=..., **options)`.

Built from `catalog.TASK_SPECS`, the one place a task is registered: each spec's `impl` names its
Task subclass as "module:Class" (a string, so the torch-free catalog never imports a task).
"""

from __future__ import annotations

import importlib

from rnnbench.catalog import TASK_SPECS
from rnnbench.tasks.base import Task


def load_task(impl: str) -> type[Task]:
    """The Task subclass named by a spec's `impl` ("package.module:Class")."""
    module, _, name = impl.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise TypeError(f"{impl} is not a Task subclass")
    return cls


TASKS: dict[str, type[Task]] = {name: load_task(spec.impl) for name, spec in TASK_SPECS.items()}
