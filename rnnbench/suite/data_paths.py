"""Where a task's data file is: a relative `path` in a suite is read from the suite file's folder, not the shell's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnnbench.catalog import TASK_SPECS


def resolve_data_paths(data: Any, folder: Path) -> Any:
    """The loaded suite document with each file-reading task's relative `path` made absolute from `folder`.

    Absolute paths let every worker (another process, another folder) read the same file; ids show only its name.
    """
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, list):
        return data
    resolved = []
    for entry in tasks:
        name = entry.get("task") if isinstance(entry, dict) else None
        spec = TASK_SPECS.get(name) if isinstance(name, str) else None
        if spec is not None and spec.reads_file and isinstance(entry.get("path"), str):
            path = Path(entry["path"]).expanduser()
            entry = {**entry, "path": str(path) if path.is_absolute() else os.path.abspath(folder / path)}
        resolved.append(entry)
    return {**data, "tasks": resolved}
