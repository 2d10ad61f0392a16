"""Tiny data files for the tasks that read the user's files (`series`, `text`), written into a test's folder."""

from __future__ import annotations

import math
from pathlib import Path

from rnnbench.catalog import TASK_SPECS


def write_series_csv(folder: Path, rows: int = 120, name: str = "series.csv") -> Path:
    """Columns day (sorted), units (a slow sine plus a trend), temp (another sine)."""
    path = folder / name
    lines = ["day,units,temp"]
    lines += [f"{i},{10 * math.sin(i / 5) + 0.1 * i:.6f},{math.cos(i / 7):.6f}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_text_csv(folder: Path, rows: int = 120, name: str = "texts.csv") -> Path:
    """Three labels, each with its own words, in turn: a texts file a model can learn from."""
    words = {"net": "packet router", "db": "query index", "ui": "button colour"}
    labels = list(words)
    path = folder / name
    lines = ["body,team"] + [f'"{words[labels[i % 3]]} issue {i}, help",{labels[i % 3]}' for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def file_task_options(name: str, folder: Path) -> dict:
    """The options a file-reading task needs, over tiny files in `folder`; {} for every other task."""
    if name == "series":
        return {"path": str(write_series_csv(folder)), "column": "units"}
    if name == "text":
        return {"path": str(write_text_csv(folder)), "text": "body", "label": "team"}
    assert not TASK_SPECS[name].reads_file, f"{name}: no tiny file for it here"
    return {}
