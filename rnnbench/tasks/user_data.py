"""The tasks that read the user's files, built (and so checked) once per entry before any case starts.

`validate` and `run` call `check_file_tasks`: every file is read, split and checked here, and the
first problem is one `DataError` line naming the suite's task entry, the file and the field; a
case never starts on a file that cannot be used. What each task's `summary()` says is what
`validate` shows (rows, splits, windows, classes, the baselines' scores).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rnnbench.catalog import TASK_SPECS
from rnnbench.suite.schema import Case, Suite
from rnnbench.tasks.base import Task
from rnnbench.tasks.registry import build_task
from rnnbench.tasks.tables import DataError


@dataclass(frozen=True)
class CheckedTask:
    where: str  # the suite's task entry, `tasks[0]`
    seq_len: int
    task: Task


def _entry_index(suite: Suite, case: Case) -> int:
    for j, entry in enumerate(suite.tasks):
        if entry.task == case.task and entry.options == case.task_options:
            return j
    return 0


def check_file_tasks(suite: Suite, cases: list[Case]) -> list[CheckedTask]:
    """Build each distinct file-reading task of the cases; raise DataError (one line) at the first problem."""
    built: dict[tuple[str, str, int], CheckedTask] = {}
    for case in cases:
        spec = TASK_SPECS.get(case.task)  # a task plugin has no spec here: its own dry build checks it
        if spec is None or not spec.reads_file:
            continue
        key = (case.task, json.dumps(case.task_options, sort_keys=True), case.seq_len)
        where = f"tasks[{_entry_index(suite, case)}]"
        if key not in built:
            try:
                task = build_task(case.task, case.seq_len, case.task_options)
            except (DataError, ValueError) as err:
                raise DataError(f"{where}: {err}") from None
            built[key] = CheckedTask(where, case.seq_len, task)
        _check_sizes(built[key], case)
    return list(built.values())


def _check_sizes(checked: CheckedTask, case: Case) -> None:
    """Every batch a case draws from the train split must fit in it: training, the pool, timing, inference."""
    s = case.settings
    available = checked.task.n_train  # type: ignore[attr-defined]
    asked = {"batch_size": s.batch_size, "inference.batch_sizes": max(s.inference.batch_sizes)}
    if s.train_size is not None:
        asked["train_size"] = s.train_size
    for field, size in asked.items():
        if size > available:
            raise DataError(
                f"{checked.where}: {field} {size} is more than the {available} training examples of "
                f"{case.task_options['path']} at seq_len {case.seq_len} (case {case.id})"
            )
