"""A result case's task facts (causal, output kind, future): the catalog's for a built-in, those its plugin stated for a plugin task."""

from __future__ import annotations

from rnnbench.catalog import TASK_SPECS, TaskSpec
from rnnbench.results.records import CaseJson


def case_task_spec(case: CaseJson) -> TaskSpec | None:
    """Read from the record alone (no plugin is imported to read results); None for a task neither knows."""
    if case["task"] in TASK_SPECS:
        return TASK_SPECS[case["task"]]
    stated = case.get("task_plugin")
    if not stated or stated.get("output_kind") not in ("last", "sequence"):
        return None
    return TaskSpec(
        stated.get("description", ""),
        bool(stated.get("causal")),
        "last" if stated["output_kind"] == "last" else "sequence",
        future=bool(stated.get("future")),
        real=bool(stated.get("real")),
        impl=case["task"],
    )
